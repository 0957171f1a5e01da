package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway/bus"
)

// ratesAnswer is GET /api/v1/rates, decoded.
type ratesAnswer struct {
	From        time.Time
	StepSeconds int `json:"step_seconds"`
	Buckets     int
	Complete    bool
	Webhooks    []struct {
		Identifier string
		Logging    bool
		Requests   []int
		Total      int
	}
	Routes []struct {
		Name     string
		Attempts []int
		Total    int
		Outgoing []struct {
			Name     string
			Attempts []int
			Total    int
		}
	}
}

func sum(xs []int) (n int) {
	for _, x := range xs {
		n += x
	}
	return n
}

func TestRatesCountRequestsPerWebhookAndAttemptsPerRouteAndPairByMinuteFromTheLog(t *testing.T) {
	t.Parallel()
	s, ok, strict := trafficStack(t)
	for range 3 {
		postItems(t, s, "orders", 2)
	}
	postItems(t, s, "quiet", 1) // not logged: no request count, but its attempts count
	eventually(t, "the deliveries", func() bool { return ok.total() == 7 && strict.total() == 7 })
	// What another hookgate process on the same NATS logs counts too: the
	// rates come from the shared log, not from this process's counters.
	data, _ := json.Marshal(bus.AttemptLogEntry{Time: time.Now(), TaskID: "x", Route: "erp", Outgoing: "ok", Status: 200, Attempt: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.js.Publish(ctx, bus.AttemptLogSubject("erp", "ok"), data); err != nil {
		t.Fatal(err)
	}

	var got ratesAnswer
	eventually(t, "every attempt logged and counted", func() bool {
		r := s.api("GET", "/api/v1/rates")
		if r.Status != http.StatusOK {
			t.Fatalf("GET /api/v1/rates: %d %s", r.Status, r.Body)
		}
		got = ratesAnswer{}
		r.json(t, &got)
		return len(got.Routes) == 1 && got.Routes[0].Total == 15 && len(got.Webhooks) == 2 && got.Webhooks[0].Total == 3
	})
	if got.StepSeconds != 60 || got.Buckets != 60 || !got.Complete || !got.From.Equal(got.From.Truncate(time.Minute)) {
		t.Errorf("step %ds, %d buckets, complete %v, from %v: want 60 s, 60, true, on a minute", got.StepSeconds, got.Buckets, got.Complete, got.From)
	}
	orders, quiet, erp := got.Webhooks[0], got.Webhooks[1], got.Routes[0]
	// The traffic took a few seconds: it lies in the last two buckets.
	if len(orders.Requests) != 60 || sum(orders.Requests[58:]) != 3 || !orders.Logging {
		t.Errorf("orders: %+v, want 60 buckets, 3 requests in the last two, logging", orders)
	}
	if quiet.Identifier != "quiet" || quiet.Logging || quiet.Total != 0 {
		t.Errorf("quiet: %+v, want no counts and logging false", quiet)
	}
	if sum(erp.Attempts[58:]) != 15 || len(erp.Outgoing) != 2 ||
		erp.Outgoing[0].Name != "ok" || erp.Outgoing[0].Total != 8 ||
		erp.Outgoing[1].Name != "strict" || erp.Outgoing[1].Total != 7 {
		t.Errorf("erp: %+v, want 15 attempts: ok 8 (one from another process), strict 7", erp)
	}

	r := s.api("GET", "/api/v1/rates?minutes=5")
	var short ratesAnswer
	r.json(t, &short)
	if short.Buckets != 5 || len(short.Routes[0].Attempts) != 5 || short.Routes[0].Total != 15 {
		t.Errorf("minutes=5: %s, want 5 buckets holding the 15 attempts", r.Body)
	}
	for _, bad := range []string{"0", "61", "x", "-1"} {
		apiCase{name: bad, method: "GET", path: "/api/v1/rates?minutes=" + bad, header: []string{"Authorization: Bearer " + testToken},
			status: 400, errMsg: "minutes: use a whole number from 1 to 60"}.check(t, s.admin.URL)
	}
	apiCase{method: "GET", path: "/api/v1/rates", status: 401,
		errMsg: "missing admin token; send Authorization: Bearer <admin.token>"}.check(t, s.admin.URL)
}
