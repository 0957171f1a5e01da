package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/bus"
)

// step starts one part of serve and, once it runs, registers its stop
// with s.parts; a step that fails leaves nothing of its own running.
type step struct {
	name  string
	start func(s *serving) error
}

// serveSteps are serve's parts in the order they start. They stop in
// reverse, which at SIGTERM is SPEC §8's graceful shutdown: the watcher;
// the public listener (stop accepting, finish the requests in flight, flush
// the request log); the admin listener, which starts before the public one
// so that it answers (metrics, reload) while requests drain; the router
// (deliveries under way finish); the attempt log, after the deliveries and
// before NATS closes, so that their last attempts are logged; NATS (drain,
// then the embedded server); and the signals last, so that a second SIGTERM
// during the drain is not fatal.
func serveSteps(watch bool) []step {
	steps := []step{
		{"signals", (*serving).catchSignals},
		{"nats", (*serving).openBus},
		{"metrics", (*serving).newMetrics},
		{"gateway", (*serving).buildGateway},
		{"requestlog", (*serving).startRequestLog},
		{"attemptlog", (*serving).startAttemptLog},
		{"router", (*serving).startRouter},
		{"admin", (*serving).serveAdmin},
		{"listen", (*serving).serveGateway},
	}
	if watch {
		steps = append(steps, step{"watch", (*serving).watch})
	}
	return steps
}

// catchSignals ends s.ctx at SIGINT or SIGTERM and reloads at SIGHUP.
func (s *serving) catchSignals() error {
	ctx, stop := signal.NotifyContext(s.ctx, os.Interrupt, syscall.SIGTERM)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	s.ctx, s.hup = ctx, hup
	s.parts.started("signals", func(context.Context) error {
		signal.Stop(hup)
		stop()
		return nil
	})
	return nil
}

func (s *serving) openBus() error {
	b, err := bus.Open(s.ctx, s.cfg.NATS, s.log.Named("nats"))
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	s.bus = b
	s.parts.started("nats", b.Close)
	return nil
}

func (s *serving) newMetrics() error {
	pm, err := newProcessMetrics()
	if err != nil {
		return err
	}
	s.metrics = pm
	return nil
}

// buildGateway builds the gateway's runtime and server (it serves in the
// listen step) and the reloader that swaps their runtime.
func (s *serving) buildGateway() error {
	rt, err := gateway.Build(s.cfg)
	if err != nil {
		return err
	}
	s.srv = gateway.New(rt, s.bus, s.log.Named("gateway"))
	s.srv.SetMetrics(s.metrics.gateway)
	s.reload = &reloader{path: s.path, srv: s.srv, metrics: s.metrics.gateway, log: s.log.Named("reload")}
	return nil
}

// The request log and the delivery-attempt log (SPEC §9), one writer each
// for the process, so that their drops can be counted across reloads.

func (s *serving) startRequestLog() error {
	w := bus.NewLogWriter(s.bus.JetStream(), 0, s.log.Named("requestlog"))
	// At SIGTERM the gateway's Shutdown has flushed it already.
	s.parts.started("requestlog", logCloser(w, "request log not flushed"))
	s.reqlog = w
	s.srv.SetRequestLog(w)
	return s.metrics.countLogs(map[string]*bus.LogWriter{"requests": w})
}

func (s *serving) startAttemptLog() error {
	w := bus.NewLogWriter(s.bus.JetStream(), 0, s.log.Named("attempts"))
	s.parts.started("attemptlog", logCloser(w, "delivery attempt log not flushed"))
	s.attempts = w
	return s.metrics.countLogs(map[string]*bus.LogWriter{"deliveries": w})
}

func logCloser(w *bus.LogWriter, what string) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := w.Close(ctx); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
}

// startRouter starts delivery; reloads replace the router too (SPEC §8).
func (s *serving) startRouter() error {
	routes, err := startRouter(s.ctx, s.cfg, s.bus, s.log, s.metrics, s.attempts)
	if err != nil {
		return err
	}
	s.parts.started("router", func(ctx context.Context) error {
		if err := routes.Stop(ctx); err != nil {
			return fmt.Errorf("deliveries still under way at shutdown timeout: %w", err)
		}
		return nil
	})
	s.reload.routes = routes
	return nil
}

// serveAdmin binds admin.listen and serves the admin API (nothing with
// admin.listen "").
func (s *serving) serveAdmin() error {
	adm, ln, err := listenAdmin(s.cfg, s.srv, s.bus, s.metrics, s.reload, s.log)
	if err != nil || adm == nil {
		return err
	}
	s.admin = ln.Addr()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := adm.Serve(ln); err != nil {
			s.served <- fmt.Errorf("admin: %w", err)
		}
	}()
	s.parts.started("admin", func(ctx context.Context) error {
		if err := adm.Shutdown(ctx); err != nil {
			return fmt.Errorf("admin requests still in flight at shutdown timeout: %w", err)
		}
		return waitServed(ctx, done)
	})
	return nil
}

// serveGateway binds server.listen and serves the webhooks.
func (s *serving) serveGateway() error {
	ln, err := net.Listen("tcp", s.cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("server.listen %q: %w", s.cfg.Server.Listen, err)
	}
	s.listen = ln.Addr()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.served <- s.srv.Serve(ln)
	}()
	s.parts.started("gateway", func(ctx context.Context) error {
		if err := s.srv.Shutdown(ctx); err != nil {
			return fmt.Errorf("requests still in flight at shutdown timeout: %w", err)
		}
		return waitServed(ctx, done)
	})
	return nil
}

// waitServed waits for a Serve that Shutdown has ended to return.
func waitServed(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("still serving at shutdown timeout: %w", ctx.Err())
	}
}

func (s *serving) watch() error {
	stop, err := watchConfig(s.path, s.reloads, s.log.Named("watch"))
	if err != nil {
		return err
	}
	s.parts.started("watch", func(context.Context) error { stop(); return nil })
	return nil
}
