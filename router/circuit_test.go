package router

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/hookgate/hookgate/configs"
)

// manualClock is a clock that moves only when Advance says so.
type manualClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []manualTimer
}

type manualTimer struct {
	at time.Time
	c  chan time.Time
}

func newManualClock() *manualClock {
	return &manualClock{now: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.timers = append(c.timers, manualTimer{at: c.now.Add(d), c: ch})
	return ch
}

// Advance moves the clock and fires the timers that are due.
func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.timers[:0]
	for _, t := range c.timers {
		if t.at.After(c.now) {
			kept = append(kept, t)
		} else {
			t.c <- c.now
		}
	}
	c.timers = kept
}

// waitTimers blocks until n timers are pending: n waiters are asleep.
func (c *manualClock) waitTimers(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		have := len(c.timers)
		c.mu.Unlock()
		if have == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d waiters asleep, want %d", have, n)
		}
		time.Sleep(time.Millisecond)
	}
}

var testCircuit = configs.Circuit{Failures: 3, OpenFor: 30 * time.Second, MaxOpenFor: 100 * time.Second}

func assertView(t *testing.T, b *breaker, state string, failures int, until time.Time) {
	t.Helper()
	s, f, u := b.view()
	if s != state || f != failures || !u.Equal(until) {
		t.Fatalf("circuit is %s, %d failures, until %v; want %s, %d, %v", s, f, u, state, failures, until)
	}
}

func assertAdmit(t *testing.T, b *breaker, now time.Time, ok, probe bool, wake time.Time) {
	t.Helper()
	gotOK, gotProbe, gotWake := b.admit(now)
	if gotOK != ok || gotProbe != probe || !gotWake.Equal(wake) {
		t.Fatalf("admit at %v = %v, probe %v, wake %v; want %v, %v, %v", now, gotOK, gotProbe, gotWake, ok, probe, wake)
	}
}

// The state machine: failures in a row open it, an answer in between
// resets the count, the window doubles up to max_open_for while probes
// fail, one probe at a time, and an answered probe closes it and starts
// the next outage from open_for again.
func TestCircuitOpensProbesAndCloses(t *testing.T) {
	clk := newManualClock()
	b := newBreaker(testCircuit, clk)
	t0 := clk.Now()
	sec := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

	b.done(t0, false, outcomeFailed)
	b.done(t0, false, outcomeFailed)
	b.done(t0, false, outcomeAnswered) // a 4xx is an answer too: the count starts again
	b.done(t0, false, outcomeFailed)
	b.done(t0, false, outcomeFailed)
	assertView(t, b, CircuitClosed, 2, time.Time{})
	assertAdmit(t, b, t0, true, false, time.Time{})

	b.done(sec(1), false, outcomeFailed)
	assertView(t, b, CircuitOpen, 3, sec(31))
	assertAdmit(t, b, sec(30), false, false, sec(31))

	// A failure of an attempt that started before it opened counts, but
	// does not move the window.
	b.done(sec(2), false, outcomeFailed)
	assertView(t, b, CircuitOpen, 4, sec(31))

	// Windows of 60s, 100s (max_open_for), 100s.
	for i, w := range []struct{ at, until int }{{31, 91}, {91, 191}, {191, 291}} {
		assertAdmit(t, b, sec(w.at), true, true, time.Time{})
		assertView(t, b, CircuitHalfOpen, 4+i, time.Time{})
		assertAdmit(t, b, sec(w.at), false, false, time.Time{}) // the others wait for the probe
		b.done(sec(w.at), true, outcomeFailed)
		assertView(t, b, CircuitOpen, 5+i, sec(w.until))
	}

	assertAdmit(t, b, sec(291), true, true, time.Time{})
	b.done(sec(292), true, outcomeAnswered)
	assertView(t, b, CircuitClosed, 0, time.Time{})
	assertAdmit(t, b, sec(292), true, false, time.Time{})

	for range 3 {
		b.done(sec(300), false, outcomeFailed)
	}
	assertView(t, b, CircuitOpen, 3, sec(330)) // open_for again, not the last window
}

// A probe that never reached the destination (the router stopped) hands the
// turn to the next waiter at once.
func TestCircuitProbeNotMadeHandsTheTurnOn(t *testing.T) {
	clk := newManualClock()
	b := newBreaker(testCircuit, clk)
	now := clk.Now()
	for range 3 {
		b.done(now, false, outcomeFailed)
	}
	later := now.Add(testCircuit.OpenFor)
	assertAdmit(t, b, later, true, true, time.Time{})
	b.done(later, true, outcomeNone)
	assertView(t, b, CircuitOpen, 3, later)
	assertAdmit(t, b, later, true, true, time.Time{})
}

// failures: 0 never opens; turning it off on reload lets waiting tasks go,
// and a reload that keeps it on keeps the state.
func TestCircuitOffAndReconfigured(t *testing.T) {
	clk := newManualClock()
	now := clk.Now()
	off := newBreaker(configs.Circuit{Failures: 0, OpenFor: time.Second, MaxOpenFor: time.Second}, clk)
	for range 100 {
		off.done(now, false, outcomeFailed)
	}
	assertAdmit(t, off, now, true, false, time.Time{})

	b := newBreaker(testCircuit, clk)
	for range 3 {
		b.done(now, false, outcomeFailed)
	}
	kept := testCircuit
	kept.OpenFor = time.Hour
	b.configure(kept, nil)
	assertView(t, b, CircuitOpen, 3, now.Add(testCircuit.OpenFor))
	b.configure(configs.Circuit{OpenFor: time.Second, MaxOpenFor: time.Second}, nil)
	assertView(t, b, CircuitClosed, 3, time.Time{})
	assertAdmit(t, b, now, true, false, time.Time{})
}

// Deliveries waiting on an open circuit sleep until the window ends; then
// exactly one goes as the probe while the others keep waiting, a failed
// probe puts them all to sleep again, and an answered one lets all go.
func TestCircuitWaitLetsOneProbeThrough(t *testing.T) {
	clk := newManualClock()
	b := newBreaker(testCircuit, clk)
	for range 3 {
		b.done(clk.Now(), false, outcomeFailed)
	}
	const waiters = 5
	type result struct {
		probe bool
		err   error
	}
	results := make(chan result, waiters)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for range waiters {
		go func() {
			probe, err := b.wait(ctx)
			results <- result{probe, err}
		}()
	}
	clk.waitTimers(t, waiters)

	clk.Advance(testCircuit.OpenFor)
	if r := <-results; !r.probe || r.err != nil {
		t.Fatalf("first through: probe %v, err %v; want the probe", r.probe, r.err)
	}
	b.done(clk.Now(), true, outcomeFailed)
	// Each other waiter either returned or sleeps on a timer again; none
	// returned.
	clk.waitTimers(t, waiters-1)
	if len(results) != 0 {
		t.Fatalf("%d deliveries went while the circuit was open", len(results))
	}

	clk.Advance(2 * testCircuit.OpenFor)
	if r := <-results; !r.probe || r.err != nil {
		t.Fatalf("second probe: probe %v, err %v", r.probe, r.err)
	}
	b.done(clk.Now(), true, outcomeAnswered)
	for range waiters - 2 {
		if r := <-results; r.probe || r.err != nil {
			t.Fatalf("after the circuit closed: probe %v, err %v; want a plain attempt", r.probe, r.err)
		}
	}
}

// A stop ends the wait with the context's error.
func TestCircuitWaitEndsOnStop(t *testing.T) {
	clk := newManualClock()
	b := newBreaker(testCircuit, clk)
	for range 3 {
		b.done(clk.Now(), false, outcomeFailed)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := b.wait(ctx)
		done <- err
	}()
	clk.waitTimers(t, 1)
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("wait after stop: %v, want context.Canceled", err)
	}
}

// The Circuits of a process keep a pair's breaker for the next Router,
// show it, export hookgate_circuit_open, and forget pairs a reload removed.
func TestCircuitsKeepStateAndExportIt(t *testing.T) {
	clk := newManualClock()
	cs := newCircuits(clk)
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	b := cs.forPair("r", "o", testCircuit)
	gauge := m.forPair("r", "o").circuitGauge()
	b.configure(testCircuit, gauge)
	if v, ok := cs.Circuit("r", "o"); !ok || v.State != CircuitClosed || gaugeValue(gauge) != 0 {
		t.Fatalf("new pair: %+v %v, gauge %v", v, ok, gaugeValue(gauge))
	}
	for range 3 {
		b.done(clk.Now(), false, outcomeFailed)
	}
	if same := cs.forPair("r", "o", testCircuit); same != b {
		t.Fatal("a second Router got a new breaker for the same pair")
	}
	v, _ := cs.Circuit("r", "o")
	if v.State != CircuitOpen || v.Failures != 3 || !v.Until.Equal(clk.Now().Add(testCircuit.OpenFor)) || gaugeValue(gauge) != 1 {
		t.Fatalf("open pair: %+v, gauge %v", v, gaugeValue(gauge))
	}
	cs.retain(func(string, string) bool { return false })
	if _, ok := cs.Circuit("r", "o"); ok {
		t.Fatal("a removed pair is still shown")
	}
	if gaugeValue(gauge) != 0 {
		t.Errorf("a removed pair's hookgate_circuit_open is %v, want 0", gaugeValue(gauge))
	}
	b.done(clk.Now(), true, outcomeFailed) // its old Router still running
	if gaugeValue(gauge) != 0 {
		t.Errorf("a removed pair's breaker still sets hookgate_circuit_open: %v", gaugeValue(gauge))
	}
}

func gaugeValue(g prometheus.Gauge) float64 {
	var d dto.Metric
	if err := g.Write(&d); err != nil {
		return -1
	}
	return d.GetGauge().GetValue()
}
