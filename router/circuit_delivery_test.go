package router

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/hookgate/hookgate/configs"
)

// SPEC §12 through a real JetStream: a destination down for many windows
// gets only probes once the circuit is open, the tasks wait without
// spending attempts (max_attempts 4 would have made dead letters of them
// after four failures each, under a second at these intervals), a reload
// keeps the open state, and once the destination is back every task is
// delivered and none is a dead letter.
func TestCircuitHoldsTasksThroughAnOutageAndAReload(t *testing.T) {
	js := startJS(t)
	var up atomic.Bool
	rc := newReceiver(t, func(_ int, _ arrival, w http.ResponseWriter) {
		if !up.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	out := testOutgoing("erp", rc.URL)
	out.Concurrency = 2
	out.Retry.MaxAttempts = 4
	out.Circuit = configs.Circuit{Failures: 2, OpenFor: 100 * time.Millisecond, MaxOpenFor: 200 * time.Millisecond}
	cfg := testConfig(configs.Route{}, out)
	circuits := NewCircuits()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := StartSupervisor(ctx, cfg, js, zaptest.NewLogger(t), "test", WithCircuits(circuits))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	const tasks = 4
	for i := range tasks {
		publishTask(t, js, "tasks.orders", "task-"+strconv.Itoa(i), `{"n":`+strconv.Itoa(i)+`}`)
	}

	state := func() CircuitView {
		v, ok := circuits.Circuit("r", "erp")
		if !ok {
			t.Fatal("no circuit for r/erp")
		}
		return v
	}
	waitFor(t, "the circuit to open", func() bool { return state().State == CircuitOpen })
	// Eight more failed requests are probes of at least 100ms windows;
	// without the circuit the four tasks would have spent their four
	// attempts and been dead letters by then.
	opened := rc.count()
	rc.wait(t, opened+8)
	if n := dlqCount(t, js); n != 0 {
		t.Fatalf("%d dead letters while the circuit was open", n)
	}

	// A reload that keeps the pair keeps its state. Its stop hands the
	// held tasks back (one delivery each, which max_attempts 4 allows).
	changed := out
	changed.Timeout = 3 * time.Second
	if restarted, err := s.Reload(testConfig(configs.Route{}, changed), 10*time.Second); err != nil || !restarted {
		t.Fatalf("Reload: restarted %v, %v", restarted, err)
	}
	if v := state(); v.State == CircuitClosed || v.Failures < 2 {
		t.Fatalf("after a reload the circuit is %+v, want it still open or half open", v)
	}

	up.Store(true)
	waitFor(t, "the circuit to close", func() bool { return state().State == CircuitClosed })
	// settled: every task acked, which only a 2xx or a dead letter does.
	settled(t, js, "r", "erp")
	if n := dlqCount(t, js); n != 0 {
		t.Errorf("%d dead letters after the destination came back, want none", n)
	}
}

// waitFor polls cond until it holds, failing after a generous timeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 20s for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A reload while a task waits on an open circuit hands it back to
// JetStream, which counts one more delivery; the Router takes it off again,
// so the task's attempts are only those it made: two failures that opened
// the circuit, then the probe after the reload, answered 400 (a dead letter
// at once), is attempt 3. Without the correction it would say 4.
func TestCircuitReloadSpendsNoAttemptOfAWaitingTask(t *testing.T) {
	js := startJS(t)
	var status atomic.Int32
	status.Store(http.StatusServiceUnavailable)
	rc := newReceiver(t, func(_ int, _ arrival, w http.ResponseWriter) { w.WriteHeader(int(status.Load())) })
	out := testOutgoing("erp", rc.URL)
	out.Concurrency = 1
	out.Circuit = configs.Circuit{Failures: 2, OpenFor: 100 * time.Millisecond, MaxOpenFor: 100 * time.Millisecond}
	s := startSupervisor(t, testConfig(configs.Route{}, out), js)
	publishTask(t, js, "tasks.orders", "task-0", `{"n":0}`)
	// Two attempts open the circuit; the third request is a probe, after
	// which the task waits in this process.
	rc.wait(t, 3)

	changed := out
	changed.Timeout = 3 * time.Second
	if !reload(t, s, testConfig(configs.Route{}, changed)) {
		t.Fatal("a changed timeout did not restart the router")
	}
	status.Store(http.StatusBadRequest)
	m := nextDeadLetter(t, js, "dlq.r.erp")
	if got := m.Headers().Get("hookgate-attempts"); got != "3" {
		t.Errorf("hookgate-attempts %q, want 3 (2 attempts, then the probe; the reload's hand-back is none)", got)
	}
}
