// Package gateway is hookgate's public HTTP side: the echo server, the
// /webhooks handler and the publishing of tasks (SPEC §3, §7).
package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/hookgate/hookgate/gateway/bus"
)

// Server serves /webhooks/:identifier, /healthz and /readyz.
type Server struct {
	rt   atomic.Pointer[Runtime]
	bus  *bus.Bus
	log  *zap.Logger
	echo *echo.Echo
	http *http.Server
	now  func() time.Time
	// metrics is set before serving and read-only afterwards; nil records nothing.
	metrics *Metrics
	// reqlog is set before serving; nil keeps no request log.
	reqlog *bus.LogWriter
	// load counts requests and spooled bytes across reloads.
	load load
	// tracer is set before serving (SetTracerProvider); its zero value
	// propagates trace context and records no spans.
	tracer tracer
}

// New builds a Server on rt, publishing through b.
func New(rt *Runtime, b *bus.Bus, log *zap.Logger) *Server {
	s := &Server{bus: b, log: log, now: time.Now}
	s.rt.Store(rt)
	b.SetPublishTimeout(rt.Config.NATS.PublishTimeout)
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = s.errorHandler
	e.Any("/webhooks/:identifier", s.handleWebhook)
	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	e.GET("/readyz", s.handleReady)
	s.echo = e
	srv := rt.Config.Server
	s.http = &http.Server{
		Handler:           e,
		ReadHeaderTimeout: srv.ReadHeaderTimeout,
		ReadTimeout:       srv.ReadTimeout,
		// Slow readers of our small responses are cut off too.
		WriteTimeout: srv.ReadTimeout + 30*time.Second,
		ErrorLog:     zap.NewStdLog(log.Named("http")),
	}
	return s
}

// Handler is the server's HTTP handler, for tests and benchmarks.
func (s *Server) Handler() http.Handler { return s.echo }

// Swap installs a new runtime; requests in flight finish on the old one.
func (s *Server) Swap(rt *Runtime) {
	rt.prepare(s.metrics)
	s.bus.SetPublishTimeout(rt.Config.NATS.PublishTimeout)
	old := s.rt.Swap(rt)
	s.metrics.forget(old, rt)
}

// SetMetrics makes the server record requests in m (nil: record nothing).
// Call it before Serve; it is not safe while requests are served.
func (s *Server) SetMetrics(m *Metrics) {
	s.metrics = m
	s.rt.Load().prepare(m)
	m.observe(&s.load)
}

// Runtime is the runtime now serving.
func (s *Server) Runtime() *Runtime { return s.rt.Load() }

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	err := s.http.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting and waits for requests in flight, then for the
// request log entries still queued, up to ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if s.reqlog != nil {
		if cerr := s.reqlog.Close(ctx); err == nil && cerr != nil {
			err = fmt.Errorf("request log not flushed: %w", cerr)
		}
	}
	return err
}

func (s *Server) handleReady(c echo.Context) error {
	if s.rt.Load() == nil || !s.bus.Ready() {
		return reject(http.StatusServiceUnavailable, "not ready: NATS not connected")
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
