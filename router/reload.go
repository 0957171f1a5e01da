package router

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/hookgate/hookgate/configs"
)

// startTimeout bounds the setup of a Router started by a reload.
const startTimeout = 30 * time.Second

// Supervisor keeps the Router of the configuration in force running and
// replaces it when a reload changes the routes (SPEC §8, reload without
// drops). A replacement keeps every durable consumer's name, so tasks that
// arrive while one Router stops and the next starts wait in JetStream and
// none is lost.
//
// The consumer of a (route, outgoing) pair that a reload removes or
// disables is left in place, with its position and its tasks awaiting a
// retry: other processes may still run the old config (a rolling change),
// and a pair put back resumes where it stopped instead of losing what was
// pending. `nats consumer rm` drops one for good.
type Supervisor struct {
	js      jetstream.JetStream
	log     *zap.Logger
	version string
	opts    []Option
	stream  string // the task stream the process made at start

	mu      sync.Mutex
	cfg     *configs.Config // what run was built from
	run     *Router         // nil: no routes
	stopped bool
}

// StartSupervisor builds and starts the Router of cfg; with no routes there
// is nothing to run until a reload adds some. ctx bounds the setup only.
// The task stream stays cfg.NATS.Stream.Name for the life of the
// Supervisor: the process made its streams at start.
func StartSupervisor(ctx context.Context, cfg *configs.Config, js jetstream.JetStream, log *zap.Logger, version string, opts ...Option) (*Supervisor, error) {
	if cfg == nil || js == nil {
		return nil, errors.New("router.StartSupervisor: config and JetStream are required")
	}
	if log == nil {
		log = zap.NewNop()
	}
	// Every Router the Supervisor builds shares one set of breakers, so
	// that a reload keeps the state of the pairs it keeps.
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.circuits == nil {
		opts = append(slices.Clip(opts), WithCircuits(NewCircuits()))
	}
	s := &Supervisor{js: js, log: log, version: version, opts: opts, stream: cfg.NATS.Stream.Name}
	r, err := s.build(cfg)
	if err != nil {
		return nil, err
	}
	if r != nil {
		if err := r.Start(ctx); err != nil {
			_ = r.Stop(ctx)
			return nil, err
		}
	}
	s.cfg, s.run = cfg, r
	return s, nil
}

// build is the Router of cfg on the Supervisor's stream; nil when cfg has
// no routes.
func (s *Supervisor) build(cfg *configs.Config) (*Router, error) {
	if len(cfg.Routes) == 0 {
		return nil, nil
	}
	pinned := *cfg
	pinned.NATS.Stream.Name = s.stream
	return New(&pinned, s.js, s.log, s.version, s.opts...)
}

// Reload makes cfg's routes the ones delivered. When they are the same as
// now (SameRouting) the running Router keeps going and Reload reports
// false. Otherwise the new Router is built first: if that fails, nothing
// changes and the error is returned. Then the running Router stops
// gracefully (deliveries under way finish within stopWithin, later ones are
// handed back to JetStream) and the new one starts. Should it not start,
// the previous routes are started again and the error is returned, so a
// refused reload leaves the old delivery running either way.
func (s *Supervisor) Reload(cfg *configs.Config, stopWithin time.Duration) (restarted bool, err error) {
	if cfg == nil {
		return false, errors.New("router: Reload needs a config")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return false, errors.New("router: Reload after Stop; the process is shutting down")
	}
	// Unless a failed reload left nothing running: then the same routes
	// are started again.
	if SameRouting(s.cfg, cfg) && (s.run != nil || len(cfg.Routes) == 0) {
		s.cfg = cfg
		return false, nil
	}
	next, err := s.build(cfg)
	if err != nil {
		return false, err
	}
	s.stopRunning(stopWithin)
	if err := s.start(next); err != nil {
		s.log.Error("the new routes did not start; starting the previous ones again", zap.Error(err))
		prev, berr := s.build(s.cfg)
		if berr == nil {
			berr = s.start(prev)
		}
		if berr != nil {
			s.run = nil
			s.log.Error("the previous routes did not start either; nothing is delivered until a reload or restart succeeds", zap.Error(berr))
			return true, fmt.Errorf("%w; the previous routes did not start either: %v", err, berr)
		}
		s.run = prev
		return true, fmt.Errorf("%w; the previous routes keep delivering", err)
	}
	s.cfg, s.run = cfg, next
	return true, nil
}

// stopRunning stops the running Router, waiting up to within for the
// deliveries under way.
func (s *Supervisor) stopRunning(within time.Duration) {
	if s.run == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if err := s.run.Stop(ctx); err != nil {
		s.log.Warn("deliveries still under way at the reload's shutdown_timeout were handed back for another attempt", zap.Error(err))
	}
	s.run = nil
}

// start starts r (nil: nothing to start); a Router that fails to start is
// stopped so that it holds nothing.
func (s *Supervisor) start(r *Router) error {
	if r == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := r.Start(ctx); err != nil {
		_ = r.Stop(ctx)
		return err
	}
	return nil
}

// Stop stops the running Router the way Router.Stop does; later reloads
// are refused.
func (s *Supervisor) Stop(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	if s.run == nil {
		return nil
	}
	return s.run.Stop(ctx)
}

// SameRouting reports whether a Router built from b would deliver exactly
// as one built from a: the same routes, outgoing configurations and auth
// profiles (secrets included), and the same subjects for the routes'
// incoming configurations. Where an element is written (its Pos) does not
// count, so editing another part of a file restarts nothing. A nil config
// is the same only as another nil.
func SameRouting(a, b *configs.Config) bool {
	if a == nil || b == nil {
		return a == b
	}
	return reflect.DeepEqual(routingOf(a), routingOf(b))
}

// routing is what a Router is built from.
type routing struct {
	routes   []configs.Route
	outgoing []configs.Outgoing
	profiles []configs.AuthProfile
	subjects map[string]string // incoming name → subject, for routed incomings
}

func routingOf(cfg *configs.Config) routing {
	r := routing{subjects: map[string]string{}}
	routed := map[string]bool{}
	for _, rt := range cfg.Routes {
		rt.Pos = configs.Pos{}
		r.routes = append(r.routes, rt)
		routed[rt.Incoming] = true
	}
	for _, o := range cfg.Outgoing {
		o.Pos = configs.Pos{}
		r.outgoing = append(r.outgoing, o)
	}
	for _, p := range cfg.AuthProfiles {
		p.Pos = configs.Pos{}
		r.profiles = append(r.profiles, p)
	}
	for _, in := range cfg.Incoming {
		if routed[in.Name] {
			r.subjects[in.Name] = incomingSubject(in)
		}
	}
	return r
}
