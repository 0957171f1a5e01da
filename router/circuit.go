package router

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookgate/hookgate/configs"
)

// Circuit states, as GET /api/v1/routes shows them (SPEC §12).
const (
	CircuitClosed   = "closed"    // deliveries go out
	CircuitOpen     = "open"      // no call to the destination until the window ends
	CircuitHalfOpen = "half_open" // one probe is under way; the others wait
)

// outcome is what one attempt tells the breaker about its destination.
type outcome int

const (
	// outcomeNone: the attempt says nothing of the destination (the
	// router stopped, or the request never left).
	outcomeNone outcome = iota
	// outcomeAnswered: the destination answered, even if with a 4xx: it
	// is up.
	outcomeAnswered
	// outcomeFailed: a retryable failure (network error, timeout, 408,
	// 429, 5xx, redirect).
	outcomeFailed
)

// breaker is the circuit of one (route, outgoing) pair, shared by every
// delivery of the pair in the process and kept across reloads (Circuits).
// After cfg.Failures failed attempts in a row it opens: no attempt starts
// until the window ends, then exactly one (the probe) is let through. A
// probe that fails opens it again for twice the window, up to
// cfg.MaxOpenFor; an answer closes it. Deliveries waiting on it hold their
// task (with InProgress), so waiting spends no attempt.
type breaker struct {
	clock clock

	mu       sync.Mutex
	cfg      configs.Circuit
	state    string
	failures int           // failed attempts in a row
	window   time.Duration // the current open window
	until    time.Time     // end of the window, while open
	// changed is closed and replaced on every change of state, waking
	// the deliveries waiting in wait.
	changed chan struct{}
	gauge   prometheus.Gauge // hookgate_circuit_open of the pair; nil: none
}

func newBreaker(cfg configs.Circuit, c clock) *breaker {
	return &breaker{clock: c, cfg: cfg, state: CircuitClosed, changed: make(chan struct{})}
}

// configure applies a reloaded configuration; the state is kept. A circuit
// turned off closes, letting its waiting deliveries go.
func (b *breaker) configure(cfg configs.Circuit, gauge prometheus.Gauge) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cfg, b.gauge = cfg, gauge
	if cfg.Failures <= 0 && b.state != CircuitClosed {
		b.set(CircuitClosed)
	}
	b.setGauge()
}

// detach stops the breaker exporting its state, leaving the gauge at 0: a
// reload dropped the pair.
func (b *breaker) detach() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.gauge != nil {
		b.gauge.Set(0)
	}
	b.gauge = nil
}

// admit decides whether an attempt may start at now. ok with probe means
// the caller is the half-open probe and must report with done(probe true).
// Otherwise, when not ok, the caller waits until wake (zero: until the
// state changes) and asks again.
func (b *breaker) admit(now time.Time) (ok, probe bool, wake time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.admitLocked(now)
}

// admitLocked is admit with b.mu held.
func (b *breaker) admitLocked(now time.Time) (ok, probe bool, wake time.Time) {
	switch {
	case b.cfg.Failures <= 0 || b.state == CircuitClosed:
		return true, false, time.Time{}
	case b.state == CircuitOpen && !now.Before(b.until):
		b.set(CircuitHalfOpen)
		return true, true, time.Time{}
	case b.state == CircuitOpen:
		return false, false, b.until
	default: // half open: the probe is under way
		return false, false, time.Time{}
	}
}

// done records the outcome of an attempt admitted by admit.
func (b *breaker) done(now time.Time, probe bool, o outcome) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch o {
	case outcomeNone:
		// A probe that did not happen hands the turn to the next waiter.
		if probe && b.state == CircuitHalfOpen {
			b.set(CircuitOpen)
		}
	case outcomeAnswered:
		b.failures, b.window = 0, 0
		if b.state != CircuitClosed {
			b.set(CircuitClosed)
		}
	case outcomeFailed:
		b.failures++
		switch {
		case b.cfg.Failures <= 0:
		case probe && b.state == CircuitHalfOpen:
			b.window = min(2*b.window, b.cfg.MaxOpenFor)
			b.open(now)
		case b.state == CircuitClosed && b.failures >= b.cfg.Failures:
			b.window = b.cfg.OpenFor
			b.open(now)
		}
	}
}

// wait blocks until admit lets an attempt start or ctx ends.
func (b *breaker) wait(ctx context.Context) (probe bool, err error) {
	for {
		// The state admit judges and the channel that announces its next
		// change are read together: read apart, a change in between
		// would wake this delivery once more and leave a timer behind.
		b.mu.Lock()
		changed := b.changed
		ok, probe, wake := b.admitLocked(b.clock.Now())
		b.mu.Unlock()
		if ok {
			return probe, nil
		}
		var timer <-chan time.Time
		if !wake.IsZero() {
			timer = b.clock.After(wake.Sub(b.clock.Now()))
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-changed:
		case <-timer:
		}
	}
}

// view is the state as GET /api/v1/routes shows it; until is set only
// while open.
func (b *breaker) view() (state string, failures int, until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == CircuitOpen {
		until = b.until
	}
	return b.state, b.failures, until
}

func (b *breaker) open(now time.Time) {
	b.window = max(b.window, b.cfg.OpenFor)
	b.until = now.Add(b.window)
	b.set(CircuitOpen)
}

// set moves to state and wakes the waiters; b.mu is held.
func (b *breaker) set(state string) {
	b.state = state
	close(b.changed)
	b.changed = make(chan struct{})
	b.setGauge()
}

// setGauge exports the state: 1 unless closed (a half-open pair still
// sends only its probe); b.mu is held.
func (b *breaker) setGauge() {
	if b.gauge == nil {
		return
	}
	if b.state == CircuitClosed {
		b.gauge.Set(0)
	} else {
		b.gauge.Set(1)
	}
}

// clock is the time the breakers read; tests pass a manual one.
type clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
