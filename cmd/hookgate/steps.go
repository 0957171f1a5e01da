package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"go.uber.org/zap"

	"github.com/hookgate/hookgate/configs"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/bus"
)

// step starts one part of serve and, once it runs, registers its stop
// with s.parts; a step that fails leaves nothing of its own running.
type step struct {
	name  string
	start func(s *serving) error
}

// serveSteps are serve's parts in the order they start. The listeners
// start before the wait for NATS (natsready), so that a serve started
// before its NATS answers /healthz, and 503 on /readyz and the webhooks,
// until it is there (SPEC §13); the parts that need the streams start
// after it. They stop in reverse, except that the attempt log and the
// router register their stops below the listeners (lifecycle.startedAt):
// at SIGTERM that is SPEC §8's graceful shutdown: the watcher; the public
// listener (stop accepting, finish the requests in flight, flush the
// request log); the admin listener, which starts before the public one so
// that it answers (metrics, reload) while requests drain; the router
// (deliveries under way finish); the attempt log, after the deliveries and
// before NATS closes, so that their last attempts are logged; NATS (drain,
// then the embedded server); the span export, after every request and
// delivery has ended its span (flush); the signals, so that a second
// SIGTERM during the drain is not fatal; and the memory limit last.
func serveSteps(watch bool) []step {
	steps := []step{
		{"memory", (*serving).setMemoryLimit},
		{"signals", (*serving).catchSignals},
		{"tracing", (*serving).startTracing},
		{"nats", (*serving).openBus},
		{"metrics", (*serving).newMetrics},
		{"gateway", (*serving).buildGateway},
		{"requestlog", (*serving).startRequestLog},
		{"admin", (*serving).serveAdmin},
		{"listen", (*serving).serveGateway},
		{"natsready", (*serving).awaitNATS},
		{"attemptlog", (*serving).startAttemptLog},
		{"router", (*serving).startRouter},
	}
	if watch {
		steps = append(steps, step{"watch", (*serving).watch})
	}
	return steps
}

// setMemoryLimit sets server.memory_limit as Go's soft memory limit; it
// wins over GOMEMLIMIT, which 0 leaves in force. The stop restores the
// limit found (for serve run inside tests).
func (s *serving) setMemoryLimit() error {
	prev := debug.SetMemoryLimit(-1)
	stop, done := make(chan struct{}), make(chan struct{})
	if limit := s.cfg.Server.MemoryLimit; limit > 0 {
		debug.SetMemoryLimit(int64(limit))
		go func() {
			defer close(done)
			followLiveHeap(int64(limit), stop)
		}()
	} else {
		close(done)
	}
	s.parts.started("memory", func(context.Context) error {
		close(stop)
		<-done
		debug.SetMemoryLimit(prev)
		return nil
	})
	return nil
}

// memoryLimit is the soft memory limit in force, for the start line.
func memoryLimit() string {
	limit := debug.SetMemoryLimit(-1)
	if limit == math.MaxInt64 {
		return "none"
	}
	return configs.FormatSize(configs.Size(limit))
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

// openBus starts the embedded server, or starts connecting to nats.url;
// awaitNATS waits for that connection.
func (s *serving) openBus() error {
	b, err := bus.Start(s.ctx, s.cfg.NATS, s.log.Named("nats"))
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	s.bus = b
	s.parts.started("nats", b.Close)
	return nil
}

// awaitNATS waits, listeners up, until NATS is connected and the streams
// are made: up to nats.connect_timeout, until a refusal of the credentials,
// a signal, or a listener that stops by itself.
func (s *serving) awaitNATS() error {
	if s.bus.Ready() {
		return nil // the embedded server, or a NATS that answered at once
	}
	s.log.Info("waiting for nats; /readyz and the webhooks answer 503 until it is connected",
		zap.String("url", configs.RedactURLs(s.cfg.NATS.URL)), zap.Duration("connect_timeout", s.cfg.NATS.ConnectTimeout))
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	ready := make(chan error, 1)
	go func() { ready <- s.bus.WaitReady(ctx) }()
	select {
	case err := <-ready:
		if err != nil {
			return fmt.Errorf("nats: %w", err)
		}
		return nil
	case err := <-s.served:
		cancel()
		<-ready
		if err == nil {
			err = errors.New("a listener stopped while waiting for nats")
		}
		return err
	}
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
	s.srv.SetTracerProvider(s.tracing.TracerProvider())
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
	s.underListeners = s.parts.startedAt(s.underListeners, "attemptlog", logCloser(w, "delivery attempt log not flushed"))
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
	routes, err := startRouter(s.ctx, s.cfg, s.bus, s.log, s.metrics, s.attempts, s.tracing.TracerProvider())
	if err != nil {
		return err
	}
	s.underListeners = s.parts.startedAt(s.underListeners, "router", func(ctx context.Context) error {
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
	// The attempt log and the router start after the listeners, and stop
	// after them.
	s.underListeners = s.parts.mark()
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
	adminAddr := ""
	if s.admin != nil {
		adminAddr = s.admin.String()
	}
	// Before NATS may be there: "hookgate started" follows once it is.
	s.log.Info("listening", zap.String("listen", s.listen.String()), zap.String("admin", adminAddr))
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
