package admin

import "time"

// What the admin listener reads of the router and the gateway. It imports
// neither: cmd/hookgate wires them into Options (as Caddy's admin API reads
// apps through interfaces), and the NATS names it reads come from bus.

// Deliveries reads the router's delivery counters.
type Deliveries interface {
	// Counts are what this process settled for the pair (route, outgoing)
	// since it started; zero for a pair it never ran.
	Counts(route, outgoing string) Counts
}

// Counts are one (route, outgoing) pair's deliveries in this process.
type Counts struct {
	Delivered uint64 // accepted by the outgoing system
	Failed    uint64 // failed attempts that were scheduled again
	Dead      uint64 // dead letters stored
}

// Circuits reads the circuit breakers of the router's pairs (SPEC §12).
type Circuits interface {
	// Circuit is the breaker of (route, outgoing); ok is false for a pair
	// this process does not run.
	Circuit(route, outgoing string) (c Circuit, ok bool)
}

// Circuit is one pair's breaker: State is closed, open or half_open,
// Failures the failed attempts in a row, Until the end of the open
// window (zero unless open).
type Circuit struct {
	State    string
	Failures int
	Until    time.Time
}

// ReplayResult is the gateway's answer to a replayed request: its status,
// the X-Request-Id of the replay and the body of its answer.
type ReplayResult struct {
	Status    int
	RequestID string
	Body      []byte
}
