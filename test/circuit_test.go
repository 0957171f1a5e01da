package test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The circuit of the e2e test: small windows so that an outage spans
// several of them within a few seconds.
const (
	circuitFailures    = 3
	circuitConcurrency = 2
	circuitOpenFor     = 300 * time.Millisecond
)

// circuitOf reads the circuit of (route, outgoing) from GET /api/v1/routes.
func circuitOf(t *testing.T, admin, route, outgoing string) (state string, failures int, until string) {
	t.Helper()
	status, body := adminCall(t, "GET", admin+"/api/v1/routes", "t0ken")
	if status != http.StatusOK {
		t.Fatalf("GET /api/v1/routes: %d %s", status, body)
	}
	var got struct {
		Routes []struct {
			Name     string
			Outgoing []struct {
				Name    string
				Circuit *struct {
					State    string
					Failures int
					Until    string
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("GET /api/v1/routes: %v: %s", err, body)
	}
	for _, rt := range got.Routes {
		for _, p := range rt.Outgoing {
			if rt.Name == route && p.Name == outgoing {
				if p.Circuit == nil {
					t.Fatalf("pair %s/%s has no circuit: %s", route, outgoing, body)
				}
				return p.Circuit.State, p.Circuit.Failures, p.Circuit.Until
			}
		}
	}
	t.Fatalf("no pair %s/%s in %s", route, outgoing, body)
	return "", 0, ""
}

// circuitMetric reports whether /metrics shows hookgate_circuit_open of the
// pair at value.
func circuitMetric(t *testing.T, admin, route, outgoing, value string) bool {
	t.Helper()
	status, metrics := adminCall(t, "GET", admin+"/metrics", "")
	if status != http.StatusOK {
		t.Fatalf("/metrics: %d", status)
	}
	return sample(metrics, `hookgate_circuit_open{outgoing="`+outgoing+`",route="`+route+`"}`, value)
}

// eventuallyTrue polls cond every 20ms until it holds, failing after 20s.
func eventuallyTrue(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 20s for %s", what)
		}
	}
}

// SPEC §12 circuit: a destination down for many times open_for receives,
// once the circuit is open, at most one request (the probe) per window;
// the admin API and /metrics show the open circuit; once the destination
// is back every task is delivered and none is a dead letter, though
// retry.max_attempts (4) is far below the requests the outage would have
// cost without the circuit (on main each task makes its 4 attempts within
// about 0.3s of backoff and becomes a dead letter).
func TestCircuitHoldsTasksWhileTheDestinationIsDownAndDeliversThemAfter(t *testing.T) {
	t.Parallel()
	var up atomic.Bool
	var mu sync.Mutex
	delivered := map[string]bool{} // Idempotency-Key → answered 200
	rcv := newReceiver(t, func(_ int, d delivery, w http.ResponseWriter) {
		if !up.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		delivered[d.Header.Get("Idempotency-Key")] = true
		mu.Unlock()
	})
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": withAdmin(routerBase, "t0ken") + `
outgoing:
  - name: erp
    url: "` + rcv.URL + `"
    allow_private_networks: true
    concurrency: ` + strconv.Itoa(circuitConcurrency) + `
    retry: {max_attempts: 4, initial_interval: 50ms, max_interval: 100ms}
    circuit: {failures: ` + strconv.Itoa(circuitFailures) + `, open_for: ` + circuitOpenFor.String() + `, max_open_for: 600ms}
routes:
  - {name: all, incoming: orders, outgoing: [erp]}
`}))
	admin := adminURL(t, hg)
	const items = 6
	var bodies []string
	for i := range items {
		bodies = append(bodies, `{"n":`+strconv.Itoa(i)+`}`)
	}
	id := postItems(t, hg, bodies...)

	eventuallyTrue(t, "the circuit open in /api/v1/routes and /metrics", func() bool {
		state, failures, until := circuitOf(t, admin, "all", "erp")
		if state != "open" {
			return false
		}
		if failures < circuitFailures {
			t.Fatalf("open with %d failures, want at least %d", failures, circuitFailures)
		}
		if _, err := time.Parse(time.RFC3339, until); err != nil {
			t.Fatalf("open circuit's until %q: %v", until, err)
		}
		return circuitMetric(t, admin, "all", "erp", "1")
	})

	// Requests made while the circuit was closed: the failures that opened
	// it, plus at most concurrency-1 under way when it opened. Every later
	// request is a probe. Wait for five probes, over 1.5s of windows.
	closedPhase := circuitFailures + circuitConcurrency - 1
	eventuallyTrue(t, "five probes", func() bool { return len(rcv.deliveries()) >= closedPhase+5 })
	down := rcv.deliveries()
	up.Store(true)

	// At most one request per window: the next probe starts no sooner
	// than open_for (doubling to 600ms) after the previous one failed,
	// which is after it arrived here, so consecutive probes arrive at least
	// open_for apart on this machine's monotonic clock. The only tolerance
	// is 10ms for the granularity of the two processes' timers; load only
	// makes the gaps longer.
	var gaps []time.Duration
	for i := 1; i < len(down); i++ {
		gaps = append(gaps, down[i].At.Sub(down[i-1].At).Round(time.Millisecond))
	}
	t.Logf("%d requests while down, at least the last %d of them probes; gaps between them: %v", len(down), len(down)-closedPhase, gaps)
	for i := closedPhase + 1; i < len(down); i++ {
		if gap := down[i].At.Sub(down[i-1].At); gap < circuitOpenFor-10*time.Millisecond {
			t.Errorf("requests %d and %d while down came %v apart, within one %v window", i, i+1, gap, circuitOpenFor)
		}
	}

	waitSettled(t, hg.NATSURL, 20*time.Second)
	deadLetters(t, hg.NATSURL, "dlq.>", 0)
	mu.Lock()
	for i := range items {
		if key := id + "-orders-" + strconv.Itoa(i); !delivered[key] {
			t.Errorf("task %s was not delivered after the destination came back", key)
		}
	}
	mu.Unlock()
	if state, failures, until := circuitOf(t, admin, "all", "erp"); state != "closed" || failures != 0 || until != "" {
		t.Errorf("after the destination came back the circuit is %s, %d failures, until %q; want closed, 0, none", state, failures, until)
	}
	if !circuitMetric(t, admin, "all", "erp", "0") {
		t.Error(`/metrics lacks hookgate_circuit_open{outgoing="erp",route="all"} 0 after the circuit closed`)
	}
}
