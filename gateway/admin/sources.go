package admin

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

// ReplayResult is the gateway's answer to a replayed request: its status,
// the X-Request-Id of the replay and the body of its answer.
type ReplayResult struct {
	Status    int
	RequestID string
	Body      []byte
}
