// Package router moves tasks from incoming subjects to outgoing HTTP systems
// (SPEC §6): routes filter and transform the items, and every (route,
// outgoing) pair is delivered at least once through its own durable
// JetStream pull consumer, which several hookgate processes share. Retries
// use JetStream redelivery so that they survive restarts; what cannot be
// delivered goes to the dead letters on dlq.<route>.<outgoing>.
//
// A dead letter is the task's body and headers plus the hookgate-* headers
// (bus.HeaderError and the others). When the dead-letter stream refuses that
// for good (the task's headers were just under JetStream's 64KiB and the
// hookgate-* ones take them past it), a reduced dead letter is stored
// instead: the body, the task's ce-* and content-type headers and the
// hookgate-* headers, each value cut to 512 bytes (ending in "…"), and
// hookgate-dropped-headers (bus.HeaderDroppedHeaders) naming the task's headers
// it left out, e.g. "hookgate-dropped-headers: X-Big". A task whose body
// alone no dead letter can hold is terminated (never redelivered) and
// stays in its stream until max_age. Any other failure to store a dead
// letter (a timeout, an unavailable server) retries the task later.
package router

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
)

// Router delivers the tasks of every enabled route. Build it with New, run
// it with Start and end it with Stop; it is not restarted after Stop.
type Router struct {
	js     jetstream.JetStream
	log    *zap.Logger
	stream string
	pairs  []*pair
	dests  []*destination

	mu      sync.Mutex
	started bool

	wg sync.WaitGroup // fetch loops and deliveries under way
	// stopCtx ends fetching and rate-limit waits when Stop begins; abortCtx
	// ends HTTP calls still running when Stop's context expires.
	stopCtx     context.Context
	stopNow     context.CancelFunc
	abortCtx    context.Context
	abortNow    context.CancelFunc
	heartbeatAt func(ackWait time.Duration) time.Duration
	attempts    *bus.LogWriter // the attempt log; Start makes one when nil
	circuits    *Circuits      // the breakers, kept across reloads
	ownAttempts bool           // attempts was made by Start: Stop closes it
	tracer      trace.Tracer   // nil: attempts send traceparent, record no span
}

// route is one compiled route.
type route struct {
	name      string
	filter    filter
	transform transform
}

// pair is one (route, outgoing) delivery: its consumer and its settings.
type pair struct {
	route    *route
	dest     *destination
	consumer jetstream.ConsumerConfig
	dlq      string
	slots    int          // deliveries in flight in this process
	metrics  *pairMetrics // nil: no metrics
	// circuit is the pair's breaker, shared with the Routers before and
	// after this one; Start applies circuitCfg to it.
	circuit    *breaker
	circuitCfg configs.Circuit
	// maxOutput bounds what transform and format xml produce: the NATS
	// max payload, which already bounds the task itself.
	maxOutput int
}

// Option is an optional setting of New.
type Option func(*options)

type options struct {
	metrics    *Metrics
	attempts   *bus.LogWriter
	maxPayload int64

	tracerProvider trace.TracerProvider // WithTracerProvider
	circuits       *Circuits
}

// WithMetrics makes the Router record its deliveries in m; nil records nothing.
func WithMetrics(m *Metrics) Option {
	return func(o *options) { o.metrics = m }
}

// WithMaxPayload bounds the output of transform and format xml to n bytes,
// the largest message the NATS server takes (bus.MaxPayload). Without it
// (or with n <= 0) New asks js's connection, and falls back to 8MiB.
func WithMaxPayload(n int64) Option {
	return func(o *options) { o.maxPayload = n }
}

// New builds every route of cfg (defaults applied and cross-references
// checked by configs.Load) on js. The streams exist already (bus.Open made
// them). Disabled routes get no consumer. log is used as it comes: the
// caller names it.
func New(cfg *configs.Config, js jetstream.JetStream, log *zap.Logger, version string, opts ...Option) (*Router, error) {
	if cfg == nil || js == nil {
		return nil, errors.New("router.New: config and JetStream are required")
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if log == nil {
		log = zap.NewNop()
	}
	maxOutput := maxOutputOf(o.maxPayload, js)
	if o.circuits == nil {
		o.circuits = NewCircuits()
	}
	stream := bus.TaskStream(cfg.NATS.Stream.Name)
	subjects := make(map[string]string, len(cfg.Incoming))
	for _, in := range cfg.Incoming {
		subjects[in.Name] = incomingSubject(in)
	}
	profiles := make(map[string]configs.AuthProfile, len(cfg.AuthProfiles))
	for _, p := range cfg.AuthProfiles {
		profiles[p.Name] = p
	}
	outgoing := make(map[string]configs.Outgoing, len(cfg.Outgoing))
	for _, o := range cfg.Outgoing {
		outgoing[o.Name] = o.WithDefaults() // a Config built in code behaves like a loaded one
	}

	// Idle connections per destination: the sum of its pairs' concurrency.
	idle := map[string]int{}
	for _, rt := range cfg.Routes {
		if !rt.Disabled {
			for _, name := range rt.Outgoing {
				idle[name] += slotsOf(outgoing[name])
			}
		}
	}

	r := &Router{js: js, log: log, stream: stream, heartbeatAt: heartbeatInterval}
	r.stopCtx, r.stopNow = context.WithCancel(context.Background())
	r.abortCtx, r.abortNow = context.WithCancel(context.Background())
	dests := map[string]*destination{}
	seen := map[string]bool{}
	for _, rt := range cfg.Routes {
		if rt.Disabled {
			continue
		}
		subject, ok := subjects[rt.Incoming]
		if !ok {
			return nil, fmt.Errorf("%sroute %q: unknown incoming %q; define it under incoming", at(rt.Pos), rt.Name, rt.Incoming)
		}
		f, err := compileFilter(rt.Filter)
		if err != nil {
			return nil, fmt.Errorf("%sroute %q: %w", at(rt.Pos), rt.Name, err)
		}
		t, err := compileTransform(rt.Transform)
		if err != nil {
			return nil, fmt.Errorf("%sroute %q: %w", at(rt.Pos), rt.Name, err)
		}
		compiled := &route{name: rt.Name, filter: f, transform: t}
		if len(rt.Outgoing) == 0 {
			return nil, fmt.Errorf("%sroute %q: outgoing is empty; name at least one outgoing configuration", at(rt.Pos), rt.Name)
		}
		for _, name := range rt.Outgoing {
			out, ok := outgoing[name]
			if !ok {
				return nil, fmt.Errorf("%sroute %q: unknown outgoing %q; define it under outgoing", at(rt.Pos), rt.Name, name)
			}
			cname := bus.ConsumerName(rt.Name, name)
			if seen[cname] {
				return nil, fmt.Errorf("%sroute %q: outgoing %q is named twice (or route defined twice); name each pair once", at(rt.Pos), rt.Name, name)
			}
			seen[cname] = true
			d, ok := dests[name]
			if !ok {
				if d, err = buildDestination(out, profiles, version, idle[name]); err != nil {
					return nil, fmt.Errorf("%s%w", at(out.Pos), err)
				}
				dests[name] = d
				r.dests = append(r.dests, d)
			}
			r.pairs = append(r.pairs, &pair{
				route:      compiled,
				dest:       d,
				consumer:   consumerConfig(cname, rt.Name, name, subject, out),
				dlq:        bus.DLQSubject(rt.Name, name),
				slots:      slotsOf(out),
				metrics:    o.metrics.forPair(rt.Name, name),
				maxOutput:  maxOutput,
				circuit:    o.circuits.forPair(rt.Name, name, out.Circuit),
				circuitCfg: out.Circuit,
			})
		}
	}
	r.attempts = o.attempts
	r.tracer = tracerOf(o.tracerProvider)
	r.circuits = o.circuits
	r.captureResponses()
	// A reload that removes a pair stops exporting its series; a disabled
	// route is still configured and keeps its counts.
	configured := map[[2]string]bool{}
	for _, rt := range cfg.Routes {
		for _, name := range rt.Outgoing {
			configured[[2]string{rt.Name, name}] = true
		}
	}
	o.metrics.retain(func(route, outgoing string) bool { return configured[[2]string{route, outgoing}] })
	// Breakers are kept only for the pairs this Router runs: a disabled
	// route's pairs show closed and start closed when enabled again.
	built := map[[2]string]bool{}
	for _, p := range r.pairs {
		built[[2]string{p.route.name, p.dest.cfg.Name}] = true
	}
	o.circuits.retain(func(route, outgoing string) bool { return built[[2]string{route, outgoing}] })
	return r, nil
}

func buildDestination(o configs.Outgoing, profiles map[string]configs.AuthProfile, version string, idle int) (*destination, error) {
	var creds *credentials
	if o.Auth != "" {
		p, ok := profiles[o.Auth]
		if !ok {
			return nil, fmt.Errorf("outgoing %q: unknown auth profile %q; define it under auth_profiles", o.Name, o.Auth)
		}
		var err error
		if creds, err = newCredentials(p, o); err != nil {
			return nil, err
		}
	}
	return newDestination(o, creds, version, max(idle, 2))
}

// maxOutputOf is the output bound of transform and format xml: maxPayload
// (WithMaxPayload), else the NATS connection's, else the default of the
// embedded server's max_payload (nats-server's own default is 1MiB).
func maxOutputOf(maxPayload int64, js jetstream.JetStream) int {
	if maxPayload <= 0 {
		if nc := js.Conn(); nc != nil {
			maxPayload = nc.MaxPayload()
		}
	}
	if maxPayload <= 0 {
		maxPayload = int64(configs.Default().NATS.Embedded.MaxPayload)
	}
	return int(min(maxPayload, math.MaxInt32))
}

// at is the "FILE:LINE: " prefix of an error about a config element, empty
// for configs built in code.
func at(p configs.Pos) string {
	if p.File == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d: ", p.File, p.Line)
}

// incomingSubject is the subject of an incoming configuration, default tasks.<name>.
func incomingSubject(in configs.Incoming) string {
	if in.Subject != "" {
		return in.Subject
	}
	return bus.TaskSubject(in.Name)
}

// slotsOf is the in-flight limit of a pair: 1 when ordered.
func slotsOf(o configs.Outgoing) int {
	if o.Ordered {
		return 1
	}
	return o.Concurrency
}

// consumerConfig is the durable consumer of a pair. MaxAckPending bounds the
// deliveries in flight across every process; tasks waiting for a retry stay
// pending too, which is what keeps ordered pairs in order across failures.
// AckWait outlasts the HTTP timeout; longer waits send InProgress. Besides
// the incoming's subject it takes the pair's own replay subject, on which
// the admin API replays the pair's dead letters.
func consumerConfig(name, routeName, outName, subject string, o configs.Outgoing) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:        name,
		Description:    fmt.Sprintf("hookgate route %s to outgoing %s", routeName, outName),
		DeliverPolicy:  jetstream.DeliverNewPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        o.Timeout + 15*time.Second,
		MaxDeliver:     -1, // attempts are counted by the router, which dead-letters the last
		FilterSubjects: []string{subject, bus.ReplaySubject(routeName, outName)},
		MaxAckPending:  slotsOf(o),
	}
}

// pullHeartbeat is how often JetStream is asked to show that a pull request
// is still waiting. A pull request lost on the way or dropped by the server
// leaves the iterator waiting for tasks nobody will send until two beats
// are missed: 30s at nats.go's default (half the 30s expiry), seconds with
// this. The price is one small message per beat for each idle pair.
const pullHeartbeat = 2 * time.Second

// heartbeatInterval is how often InProgress is sent while a delivery runs.
func heartbeatInterval(ackWait time.Duration) time.Duration { return ackWait / 3 }

// Start creates or updates the durable consumer of every pair and begins
// delivering. ctx bounds the setup only; delivery runs until Stop.
func (r *Router) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errors.New("router: Start called twice; build a new Router with New")
	}
	if r.stopCtx.Err() != nil {
		return errors.New("router: Start after Stop; build a new Router with New")
	}
	r.started = true
	r.startAttemptLog()
	its := make([]jetstream.MessagesContext, 0, len(r.pairs))
	for _, p := range r.pairs {
		c, err := r.js.CreateOrUpdateConsumer(ctx, r.stream, p.consumer)
		if err == nil {
			var it jetstream.MessagesContext
			if it, err = c.Messages(jetstream.PullMaxMessages(p.slots), jetstream.PullHeartbeat(pullHeartbeat)); err == nil {
				its = append(its, it)
				continue
			}
		}
		for _, it := range its {
			it.Stop()
		}
		return fmt.Errorf("router: consumer %s on stream %s for route %q: %w; check that the stream exists and captures %s",
			p.consumer.Durable, r.stream, p.route.name, err, strings.Join(p.consumer.FilterSubjects, " and "))
	}
	for i, p := range r.pairs {
		// Now, with the previous Router stopped, a reloaded circuit
		// setting takes effect; the state stays.
		p.circuit.configure(p.circuitCfg, p.metrics.circuitGauge())
		r.wg.Add(1)
		go r.consume(p, its[i])
	}
	r.log.Info("started", zap.Int("pairs", len(r.pairs)))
	return nil
}

// Stop stops fetching and waits for deliveries under way. When ctx ends
// first, those deliveries are aborted and their tasks handed back to
// JetStream for another attempt, and ctx's error is returned.
func (r *Router) Stop(ctx context.Context) error {
	// Under mu so that a concurrent Start either finishes first or sees the stop.
	r.mu.Lock()
	r.stopNow()
	r.mu.Unlock()
	done := make(chan struct{})
	go func() {
		r.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		r.abortNow()
		<-done
		err = fmt.Errorf("router: stop: deliveries aborted: %w", ctx.Err())
	}
	r.abortNow()
	r.stopAttemptLog(ctx)
	for _, d := range r.dests {
		d.transport.CloseIdleConnections()
		if d.creds != nil && d.creds.oauth != nil {
			d.creds.oauth.transport.CloseIdleConnections()
		}
	}
	return err
}
