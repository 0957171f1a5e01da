package configs

import "cmp"

// WithDefaults returns n with every unset field that has a default set from
// Default, so that a section built in code (tests, tools) behaves like a
// loaded one. Embedded.Listen is kept: "" there means in-process only.
func (n NATS) WithDefaults() NATS {
	d := Default().NATS
	orDefault(&n.Embedded.StoreDir, d.Embedded.StoreDir)
	orDefault(&n.Embedded.MaxPayload, d.Embedded.MaxPayload)
	orDefault(&n.Stream.Name, d.Stream.Name)
	orDefault(&n.Stream.MaxAge, d.Stream.MaxAge)
	orDefault(&n.Stream.Replicas, d.Stream.Replicas)
	orDefault(&n.Stream.Duplicates, d.Stream.Duplicates)
	orDefault(&n.PublishTimeout, d.PublishTimeout)
	orDefault(&n.Embedded.Sync, d.Embedded.Sync)
	return n
}

// WithDefaults returns o with every unset field that has a default set as
// Load sets it, and a retry.max_interval below retry.initial_interval
// (which Load refuses) raised to it, as is a circuit.max_open_for below
// circuit.open_for, so that an outgoing built in code
// behaves like a loaded one.
func (o Outgoing) WithDefaults() Outgoing {
	d := defaultOutgoing()
	orDefault(&o.Method, d.Method)
	orDefault(&o.Format, d.Format)
	orDefault(&o.RootElement, d.RootElement)
	orDefault(&o.Timeout, d.Timeout)
	orDefault(&o.Concurrency, d.Concurrency)
	orDefault(&o.Retry.MaxAttempts, d.Retry.MaxAttempts)
	orDefault(&o.Retry.InitialInterval, d.Retry.InitialInterval)
	orDefault(&o.Retry.MaxInterval, d.Retry.MaxInterval)
	o.Retry.MaxInterval = max(o.Retry.MaxInterval, o.Retry.InitialInterval)
	// Failures 0 turns the breaker off, so only a wholly unset circuit
	// takes the default count.
	if o.Circuit == (Circuit{}) {
		o.Circuit = d.Circuit
	}
	orDefault(&o.Circuit.OpenFor, d.Circuit.OpenFor)
	orDefault(&o.Circuit.MaxOpenFor, d.Circuit.MaxOpenFor)
	o.Circuit.MaxOpenFor = max(o.Circuit.MaxOpenFor, o.Circuit.OpenFor)
	return o
}

// orDefault sets *v to def when *v is unset: "" or a number not above 0.
func orDefault[T cmp.Ordered](v *T, def T) {
	var zero T
	if *v <= zero {
		*v = def
	}
}
