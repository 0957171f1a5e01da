package admin

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hookgate/hookgate/gateway/bus"
)

func TestRoutesReportPendingDeliveredFailedAndDeadPerPair(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(ok.Close)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(failing.Close)
	release := make(chan struct{})
	held := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(held.Close)

	s := startStack(t, `
admin: {listen: "127.0.0.1:0", token: t0ken-for-tests}
webhooks:
  - {name: Orders, incoming: orders}
incoming:
  - {name: orders, parser: json}
outgoing:
  - {name: ok, url: "`+ok.URL+`", allow_private_networks: true}
  - name: failing
    url: "`+failing.URL+`"
    allow_private_networks: true
    retry: {max_attempts: 2, initial_interval: 100ms, max_interval: 100ms}
  - {name: held, url: "`+held.URL+`", allow_private_networks: true, concurrency: 1, timeout: 30s}
routes:
  - {name: all, incoming: orders, outgoing: [ok, failing]}
  - {name: slow, incoming: orders, outgoing: [held]}
  - {name: off, incoming: orders, outgoing: [ok], disabled: true}
`)
	// Runs before the router stops (cleanups run last-in first-out).
	t.Cleanup(func() { close(release) })

	for _, body := range []string{`{"id":1}`, `{"id":2}`} {
		if r := s.post("orders", body); r.Status != http.StatusOK {
			t.Fatalf("post: %d %s", r.Status, r.Body)
		}
	}

	type pairCounts struct {
		Name, Consumer          string
		Pending                 *uint64
		Delivered, Failed, Dead uint64
	}
	read := func() map[string]pairCounts {
		r := s.api("GET", "/api/v1/routes")
		if r.Status != http.StatusOK {
			t.Fatalf("/api/v1/routes: %d %s", r.Status, r.Body)
		}
		var got struct {
			Routes []struct {
				Name, Incoming string
				Disabled       bool
				Outgoing       []pairCounts
			}
		}
		r.json(t, &got)
		out := map[string]pairCounts{}
		for _, rt := range got.Routes {
			if rt.Incoming != "orders" {
				t.Errorf("route %s: incoming %q", rt.Name, rt.Incoming)
			}
			if rt.Disabled != (rt.Name == "off") {
				t.Errorf("route %s: disabled %v", rt.Name, rt.Disabled)
			}
			for _, p := range rt.Outgoing {
				out[rt.Name+"/"+p.Name] = p
			}
		}
		if len(out) != 4 {
			t.Fatalf("%d pairs, want all/ok, all/failing, slow/held, off/ok: %s", len(out), r.Body)
		}
		return out
	}
	pending := func(p pairCounts) int64 {
		if p.Pending == nil {
			return -1
		}
		return int64(*p.Pending)
	}

	eventually(t, "two delivered, two failed then dead, two held", func() bool {
		c := read()
		return c["all/ok"].Delivered == 2 && c["all/failing"].Failed == 2 && c["all/failing"].Dead == 2 &&
			pending(c["slow/held"]) == 2
	})
	c := read()
	for pair, want := range map[string]struct {
		pending                 int64
		delivered, failed, dead uint64
	}{
		"all/ok":      {0, 2, 0, 0},
		"all/failing": {0, 0, 2, 2},
		// One task in flight (awaiting its ack) and one not yet delivered.
		"slow/held": {2, 0, 0, 0},
		// A disabled route has no consumer: pending is unknown.
		"off/ok": {-1, 0, 0, 0},
	} {
		got := c[pair]
		if pending(got) != want.pending || got.Delivered != want.delivered || got.Failed != want.failed || got.Dead != want.dead {
			t.Errorf("%s: pending %d delivered %d failed %d dead %d, want %+v",
				pair, pending(got), got.Delivered, got.Failed, got.Dead, want)
		}
	}
	if got, want := c["all/ok"].Consumer, bus.ConsumerName("all", "ok"); got != want {
		t.Errorf("consumer %q, want %q", got, want)
	}

	exp := s.metrics()
	wantSamples(t, exp, []sample{
		{`hookgate_deliveries_total{outcome="delivered",outgoing="ok",route="all"}`, "2"},
		{`hookgate_deliveries_total{outcome="retry",outgoing="failing",route="all"}`, "2"},
		{`hookgate_deliveries_total{outcome="dead",outgoing="failing",route="all"}`, "2"},
		{`hookgate_dead_letters_total{outgoing="failing",route="all"}`, "2"},
		{`hookgate_delivery_duration_seconds_count{outgoing="failing",route="all"}`, "4"},
		{`hookgate_delivery_duration_seconds_count{outgoing="ok",route="all"}`, "2"},
	})
	if t.Failed() {
		t.Logf("/metrics:\n%s", grepHookgate(exp))
	}
}
