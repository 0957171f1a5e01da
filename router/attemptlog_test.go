package router

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
	"github.com/hookgate/hookgate/test/natstest"
)

// attempts reads want entries of log.deliveries.<route>.<outgoing>.
func attempts(t *testing.T, js jetstream.JetStream, route, outgoing string, want int) []bus.AttemptLogEntry {
	t.Helper()
	return natstest.ReadJSON[bus.AttemptLogEntry](t, js, bus.LogStream, bus.AttemptLogSubject(route, outgoing), want)
}

func TestEveryAttemptIsLoggedWithStatusErrorAndTheStartOfTheAnswer(t *testing.T) {
	js := startJSWithLog(t)
	long := strings.Repeat("e", 3000)
	rc := newReceiver(t, func(n int, _ arrival, w http.ResponseWriter) {
		if n == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(long))
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	startRouter(t, testConfig(configs.Route{}, testOutgoing("erp", rc.URL)), js)

	m := nats.NewMsg("tasks.orders")
	m.Data = []byte(`{"id":1}`)
	m.Header.Set("ce-id", "req9-orders-0")
	m.Header.Set("ce-requestid", "req9")
	m.Header.Set("content-type", "application/json")
	publishMsg(t, js, m)
	rc.wait(t, 2)
	got := attempts(t, js, "r", "erp", 2)
	tests := []struct {
		name     string
		e        bus.AttemptLogEntry
		attempt  int
		status   int
		failed   bool
		response string
	}{
		{"a 503 keeps its error and the first 1KiB of its body", got[0], 1, 503, true, long[:MaxLoggedResponse]},
		{"the retry that delivered", got[1], 2, 200, false, "ok"},
	}
	for _, tc := range tests {
		e := tc.e
		if e.TaskID != "req9-orders-0" || e.RequestID != "req9" || e.Route != "r" || e.Outgoing != "erp" ||
			e.Attempt != tc.attempt || e.Status != tc.status || (e.Error != "") != tc.failed || e.Response != tc.response ||
			e.DurationMS <= 0 || e.Time.IsZero() {
			t.Errorf("%s: %+v", tc.name, e)
		}
	}
}

func TestAnAttemptWithoutAnswerIsLoggedWithStatusZero(t *testing.T) {
	js := startJSWithLog(t)
	rc := newReceiver(t, nil)
	url := rc.URL
	rc.Close() // nothing listens there any more
	o := testOutgoing("gone", url)
	o.Retry.MaxAttempts = 1
	startRouter(t, testConfig(configs.Route{}, o), js)
	publishTask(t, js, "tasks.orders", "req8-orders-0", `{"id":1}`)
	e := attempts(t, js, "r", "gone", 1)[0]
	if e.Status != 0 || e.Error == "" || e.Response != "" || e.Attempt != 1 || e.TaskID != "req8-orders-0" {
		t.Errorf("attempt without answer = %+v, want status 0 with its error", e)
	}
}

// The attempt entry is written by hand for speed; it must stay the bytes
// encoding/json writes, whatever the destination answered.
func TestAttemptEntryIsWhatEncodingJSONWrites(t *testing.T) {
	at := time.Date(2026, 12, 5, 8, 0, 0, 123456789, time.UTC)
	entries := []bus.AttemptLogEntry{
		{Time: at, TaskID: "req-orders-0", RequestID: "req", Route: "r", Outgoing: "erp", Attempt: 1, Status: 200, DurationMS: 1.234},
		{Time: at.Add(-time.Hour * 24 * 400), Attempt: 12, Status: 0, DurationMS: 0, Error: "POST erp.example.com: dial tcp: connection refused"},
		{Time: at.In(time.FixedZone("x", 3600)), DurationMS: 1e-7, Response: `{"a":"<b>&amp;</b>","c":"\u2028\t"}`},
		{Time: at, DurationMS: 3e21, Error: "unexpected status 503 Service Unavailable", Response: "\xff\xfeinvalid utf-8 \x00\x1f\x7f é 🙂"},
		{Time: at, DurationMS: 123456.789, TaskID: `quote " and backslash \`, Status: -1, Attempt: -3},
		{Time: time.Time{}, DurationMS: 0.000001, Response: strings.Repeat("x", 1100)},
		{Time: at, Route: "a<b", Outgoing: "c>d", RequestID: "e&f", Error: "tab\there"},
	}
	for i, e := range entries {
		want, err := json.Marshal(&e)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendAttemptEntry(nil, &e)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if string(got) != string(want) {
			t.Errorf("entry %d:\n got %s\nwant %s", i, got, want)
		}
	}
	if _, err := appendAttemptEntry(nil, &bus.AttemptLogEntry{DurationMS: math.NaN()}); err == nil {
		t.Error("NaN duration encoded")
	}
}
