package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"go.uber.org/zap"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
)

// MaxLoggedBody is how much of a request body the request log keeps (SPEC §9).
const MaxLoggedBody = 64 << 10

// Masked is what the request log shows instead of a secret (SPEC §8).
const Masked = "***"

// redactor masks a webhook's secrets in its request log.
type redactor struct {
	headers map[string]bool // canonical names whose values are all masked
	secrets []string        // values masked wherever they appear in a header
}

// newRedactor collects the headers wc's validators read, plus
// Authorization and Cookie, and every secret configured anywhere in cfg.
func newRedactor(wc configs.Webhook, cfg *configs.Config) *redactor {
	r := &redactor{headers: map[string]bool{"Authorization": true, "Cookie": true}}
	add := func(names ...string) {
		for _, n := range names {
			if n != "" {
				r.headers[http.CanonicalHeaderKey(n)] = true
			}
		}
	}
	secret := func(ss ...string) {
		for _, s := range ss {
			if s != "" {
				r.secrets = append(r.secrets, s)
			}
		}
	}
	for _, p := range wc.PreProcessors {
		switch {
		case p.HeaderSecret != nil:
			add(p.HeaderSecret.Header)
			secret(p.HeaderSecret.AllSecrets()...)
		case p.BasicAuth != nil:
			secret(p.BasicAuth.AllPasswords()...)
		case p.IPAllowlist != nil:
			add("X-Forwarded-For")
		case p.HMAC != nil:
			add(p.HMAC.Header, p.HMAC.TimestampHeader, p.HMAC.IDHeader)
			add(presetHeaders(p.HMAC.Preset)...)
			secret(p.HMAC.AllSecrets()...)
		}
	}
	if cfg != nil {
		secret(cfg.Secrets()...) // configs knows which values are secrets
	}
	return r
}

// presetHeaders are the headers an HMAC preset reads (the configs preset
// table, SPEC §5); none for no preset or an unknown one.
func presetHeaders(preset string) []string {
	p, _ := configs.PresetByName(preset)
	return p.Headers()
}

// header copies h with validator headers and secrets masked.
func (r *redactor) header(h http.Header) map[string][]string {
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		masked := r.headers[http.CanonicalHeaderKey(k)]
		cp := make([]string, len(vs))
		for i, v := range vs {
			if masked || r.holdsSecret(v) {
				v = Masked
			}
			cp[i] = v
		}
		out[k] = cp
	}
	return out
}

func (r *redactor) holdsSecret(v string) bool {
	for _, s := range r.secrets {
		if strings.Contains(v, s) {
			return true
		}
	}
	return false
}

// loggedBody copies the first MaxLoggedBody bytes of b: the copy outlives
// the request, whose buffer goes back to the pool. A spooled body is read
// from its file.
func loggedBody(b *body) (string, bool) {
	truncated := b.Size() > MaxLoggedBody
	if raw := b.Bytes(); raw != nil {
		return string(raw[:min(len(raw), MaxLoggedBody)]), truncated
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(b.Open(), MaxLoggedBody)); err != nil {
		return buf.String(), true
	}
	return buf.String(), truncated
}

// SetRequestLog makes the server log the requests of webhooks with
// `logging: true` through w (nil: log nothing). Call it before Serve.
func (s *Server) SetRequestLog(w *bus.LogWriter) { s.reqlog = w }

// logRequest hands e to the log writer; it never waits.
func (s *Server) logRequest(e *bus.RequestLogEntry) {
	data, err := json.Marshal(e)
	if err != nil {
		s.log.Warn("request log entry not encoded", zap.String("request_id", e.RequestID), zap.Error(err))
		return
	}
	s.reqlog.Write(bus.RequestLogSubject(e.Webhook), data)
}

// replayKey marks a request made by Replay; only this process can set it.
type replayKey struct{}

func isReplay(ctx context.Context) bool { return ctx.Value(replayKey{}) != nil }

// ReplayResult is the gateway's answer to a replayed request.
type ReplayResult struct {
	Status    int
	RequestID string
	Body      []byte
}

// Replay runs a logged request's body and headers through the webhook's
// current pipeline again, skipping its validators (the request passed them
// when it came in) and its dedup key (a replay is meant to store the tasks
// again). The caller checks that the body is complete. Masked headers are
// left out.
func (s *Server) Replay(ctx context.Context, e *bus.RequestLogEntry) ReplayResult {
	req, err := http.NewRequestWithContext(context.WithValue(ctx, replayKey{}, true),
		e.Method, "/webhooks/"+e.Webhook, strings.NewReader(e.Body))
	if err != nil {
		return ReplayResult{Status: http.StatusBadRequest, Body: []byte(`{"error":"logged request cannot be rebuilt"}`)}
	}
	for k, vs := range e.Headers {
		for _, v := range vs {
			if v != Masked {
				req.Header.Add(k, v)
			}
		}
	}
	req.Header.Del("Content-Length")
	req.ContentLength = int64(len(e.Body))
	req.RemoteAddr = e.RemoteAddr
	rec := &recorder{header: http.Header{}}
	s.echo.ServeHTTP(rec, req)
	return ReplayResult{Status: rec.status, RequestID: rec.header.Get("X-Request-Id"), Body: rec.body.Bytes()}
}

// recorder is the http.ResponseWriter a replay answers into.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}

// logging reports whether w keeps a request log; nil (unknown webhook) does not.
func (w *webhook) logging() bool { return w != nil && w.cfg.Logging }
