// Package admin is hookgate's operator listener (SPEC §9): Prometheus
// metrics on /metrics, open to scrapers, and the admin API under /api/v1/,
// behind `Authorization: Bearer <admin.token>`, and the operator page on /
// that shows the API's answers. It serves what the other
// components already hold (the gateway's config, the router's counters,
// the durable consumers' state, the streams) and owns no state of its own;
// it reads the gateway and the router through Options (sources.go).
package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
)

// Options are what the admin server reads from. Listen, Gatherer and
// Current are required.
type Options struct {
	// Listen and Token are admin.listen and admin.token. An empty token
	// leaves the API open and is refused unless Listen is a loopback
	// address; then only loopback Host names and same-origin changes are
	// answered (local.go).
	Listen string
	Token  string
	// Gatherer is the process's registry, served on /metrics.
	Gatherer prometheus.Gatherer
	// Current returns the configuration the gateway serves now (its
	// webhooks change on reload).
	Current func() *configs.Config
	// JetStream and Stream locate the routes' durable consumers for the
	// pending counts; nil JetStream reports no pending counts.
	JetStream jetstream.JetStream
	Stream    string
	// Deliveries reads the router's counters; nil counts zero.
	Deliveries Deliveries
	// Circuits reads the pairs' circuit breakers; nil shows them closed.
	Circuits Circuits
	// Reload loads and swaps in the configuration again, the way SIGHUP
	// does; nil answers 501 to POST /api/v1/reload.
	Reload func(ctx context.Context) error
	// Replay runs a logged request through the gateway again (logs.go);
	// nil answers 501 to POST /api/v1/requests/{id}/replay.
	Replay func(ctx context.Context, e *bus.RequestLogEntry) ReplayResult
	Log    *zap.Logger
}

// Server is the admin listener. Build it with New, run it with Serve and
// stop it with Shutdown.
type Server struct {
	opts      Options
	tokenHash [sha256.Size]byte
	open      bool // no token: loopback only, checked in New
	log       *zap.Logger
	mux       *http.ServeMux
	handler   http.Handler // mux behind localOnly
	http      *http.Server
}

// New checks opts and builds the server.
func New(opts Options) (*Server, error) {
	switch {
	case opts.Listen == "":
		return nil, errors.New("admin: admin.listen is empty; the admin listener is disabled, do not build it")
	case opts.Gatherer == nil || opts.Current == nil:
		return nil, errors.New("admin.New: Gatherer and Current are required")
	case opts.Token == "" && !loopback(opts.Listen):
		return nil, fmt.Errorf("admin.token: required when admin.listen %q is not a loopback address; set a token or listen on 127.0.0.1", opts.Listen)
	}
	log := opts.Log
	if log == nil {
		log = zap.NewNop()
	}
	s := &Server{opts: opts, open: opts.Token == "", log: log, mux: http.NewServeMux()}
	if !s.open {
		// Hashing both sides makes the compare constant-time in the
		// token's length as well as its content.
		s.tokenHash = sha256.Sum256([]byte(opts.Token))
	}
	s.mux.Handle("/metrics", promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{
		ErrorLog:      zap.NewStdLog(log),
		ErrorHandling: promhttp.ContinueOnError,
	}))
	s.mux.Handle("/api/v1/webhooks", s.api(http.MethodGet, s.webhooks))
	s.mux.Handle("/api/v1/routes", s.api(http.MethodGet, s.routes))
	s.mux.Handle("/api/v1/reload", s.api(http.MethodPost, s.reload))
	s.registerLogs()
	s.registerDLQ()
	s.registerRates()
	s.registerLookup()
	s.registerPage()
	s.registerDebug()
	s.mux.Handle("/", s.api("", func(http.ResponseWriter, *http.Request) error {
		return &apiError{status: http.StatusNotFound, msg: "not found"}
	}))
	s.handler = s.localOnly(s.mux)
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// A reload or a scrape of many series may take a while.
		WriteTimeout: 2 * time.Minute,
		ErrorLog:     zap.NewStdLog(log.Named("http")),
	}
	return s, nil
}

// Handler is the server's HTTP handler, for tests.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	err := s.http.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting and waits for requests in flight, up to ctx.
func (s *Server) Shutdown(ctx context.Context) error { return s.http.Shutdown(ctx) }

// apiError is an API failure; api renders it as {"error": msg}.
type apiError struct {
	status   int
	msg      string
	header   http.Header
	problems []string
}

func (e *apiError) Error() string { return e.msg }

// api wraps an API handler: token, then method (any when method is ""),
// then the handler; a returned error becomes the JSON error body, so no
// handler writes an error itself.
func (s *Server) api(method string, h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := s.authorize(r)
		if err == nil && method != "" && r.Method != method {
			err = &apiError{status: http.StatusMethodNotAllowed, msg: "method not allowed; use " + method,
				header: http.Header{"Allow": {method}}}
		}
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

// authorize checks `Authorization: Bearer <token>`.
func (s *Server) authorize(r *http.Request) error {
	if s.open {
		return nil
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return &apiError{status: http.StatusUnauthorized, msg: "missing admin token; send Authorization: Bearer <admin.token>",
			header: http.Header{"WWW-Authenticate": {`Bearer realm="hookgate admin"`}}}
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(token)))
	if subtle.ConstantTimeCompare(got[:], s.tokenHash[:]) != 1 {
		return &apiError{status: http.StatusUnauthorized, msg: "wrong admin token",
			header: http.Header{"WWW-Authenticate": {`Bearer realm="hookgate admin", error="invalid_token"`}}}
	}
	return nil
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		s.log.Warn("admin request failed", zap.String("path", r.URL.Path), zap.Error(err))
		ae = &apiError{status: http.StatusInternalServerError, msg: "internal error"}
	}
	for k, vs := range ae.header {
		w.Header()[k] = vs
	}
	body := struct {
		Error    string   `json:"error"`
		Problems []string `json:"problems,omitempty"`
	}{ae.msg, ae.problems}
	writeJSON(w, ae.status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// loopback reports whether a listen address stays on this machine.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
