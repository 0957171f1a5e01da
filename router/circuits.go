package router

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookgate/hookgate/configs"
)

// Circuits holds the circuit breaker of every (route, outgoing) pair of the
// process. It outlives the Routers a reload replaces, so that a pair the
// reload keeps keeps its state: give the same Circuits to each (WithCircuits;
// a Supervisor does so by itself). Its methods are safe for concurrent use.
type Circuits struct {
	clock clock

	mu    sync.Mutex
	pairs map[[2]string]*breaker
	// parked counts, per task, the deliveries JetStream counted that made
	// no attempt: a Router stopped (a reload) while the task waited on an
	// open circuit, and handed it back. They are taken off NumDelivered.
	parked map[parkKey]int
	// nParked is len(parked), read without mu: almost always 0, so that
	// a delivery takes no process-wide lock to learn nothing is parked.
	nParked atomic.Int64
}

// parkKey is a task of a pair: its consumer and stream sequence.
type parkKey struct {
	consumer string
	seq      uint64
}

// maxParked bounds parked: tasks another process settles are never
// unparked here. Past it a handed-back task counts one more attempt, as
// after a restart.
const maxParked = 1 << 16

// NewCircuits makes an empty set of breakers.
func NewCircuits() *Circuits { return newCircuits(realClock{}) }

func newCircuits(c clock) *Circuits {
	return &Circuits{clock: c, pairs: map[[2]string]*breaker{}, parked: map[parkKey]int{}}
}

// WithCircuits makes the Router keep its pairs' breakers in c, to share
// them with the Routers before and after it; without it New makes its own.
func WithCircuits(c *Circuits) Option {
	return func(o *options) { o.circuits = c }
}

// CircuitView is one pair's breaker as the admin API shows it. Until is
// the end of the open window, zero unless State is CircuitOpen.
type CircuitView struct {
	State    string
	Failures int // failed attempts in a row
	Until    time.Time
}

// Circuit reads the breaker of (route, outgoing); ok is false for a pair no
// Router of this process built.
func (c *Circuits) Circuit(route, outgoing string) (v CircuitView, ok bool) {
	if c == nil {
		return CircuitView{}, false
	}
	c.mu.Lock()
	b := c.pairs[[2]string{route, outgoing}]
	c.mu.Unlock()
	if b == nil {
		return CircuitView{}, false
	}
	v.State, v.Failures, v.Until = b.view()
	return v, true
}

// park records that the delivery of task seq on consumer made no attempt.
func (c *Circuits) park(consumer string, seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := parkKey{consumer, seq}
	if _, ok := c.parked[k]; ok || len(c.parked) < maxParked {
		c.parked[k]++
	}
	c.nParked.Store(int64(len(c.parked)))
}

// parkedOf is how many deliveries of task seq on consumer made no attempt.
func (c *Circuits) parkedOf(consumer string, seq uint64) int {
	if c.nParked.Load() == 0 {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.parked[parkKey{consumer, seq}]
}

// unpark forgets a task that is settled for good.
func (c *Circuits) unpark(consumer string, seq uint64) {
	if c.nParked.Load() == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.parked, parkKey{consumer, seq})
	c.nParked.Store(int64(len(c.parked)))
}

// forPair is the breaker of (route, outgoing), made closed the first time.
// The caller configures it when its Router starts.
func (c *Circuits) forPair(route, outgoing string, cfg configs.Circuit) *breaker {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := [2]string{route, outgoing}
	b := c.pairs[key]
	if b == nil {
		b = newBreaker(cfg, c.clock)
		c.pairs[key] = b
	}
	return b
}

// retain forgets the breakers of the pairs keep refuses (a reload removed or
// disabled them) and sets their hookgate_circuit_open to 0; a Router still
// running keeps using them until it stops, without the metric.
func (c *Circuits) retain(keep func(route, outgoing string) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key := range c.pairs {
		if b := c.pairs[key]; !keep(key[0], key[1]) {
			delete(c.pairs, key)
			b.detach()
		}
	}
}
