package router

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/hookgate/hookgate/gateway/bus"
	"github.com/hookgate/hookgate/parsers"
)

// MaxLoggedResponse is how much of a destination's answer a delivery
// attempt entry keeps (SPEC §9).
const MaxLoggedResponse = 1 << 10

// WithAttemptLog makes the Router log its delivery attempts through w,
// which the caller closes after Stop. Without it (or with nil) the Router
// logs through a LogWriter of its own on its JetStream, from Start to Stop.
func WithAttemptLog(w *bus.LogWriter) Option {
	return func(o *options) { o.attempts = w }
}

func (r *Router) startAttemptLog() {
	if r.attempts == nil {
		r.attempts = bus.NewLogWriter(r.js, 0, r.log.Named("attempts"))
		r.ownAttempts = true
	}
}

// stopAttemptLog publishes what is queued, up to ctx, once deliveries ended.
func (r *Router) stopAttemptLog(ctx context.Context) {
	if !r.ownAttempts {
		return
	}
	if err := r.attempts.Close(ctx); err != nil {
		r.log.Warn("delivery attempt log not flushed before the stop timeout", zap.Error(err))
	}
}

// captureResponses makes every destination keep the status and the start
// of the answers to attempts that ask for them.
func (r *Router) captureResponses() {
	for _, d := range r.dests {
		d.rt = captureTransport{next: d.rt}
	}
}

// captureKey carries an attempt's *capture in the request's context.
type captureKey struct{}

// capture is what an attempt's answer said: its status and the first limit
// bytes of its body, as far as the sender read it. limit goes past
// MaxLoggedResponse by the longest secret, so that the redactor sees a
// secret straddling the cut whole (see redactor.response).
type capture struct {
	limit int

	mu        sync.Mutex
	status    int
	resp      []byte
	truncated bool // more was read than kept
}

func (c *capture) result() (int, []byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status, c.resp, c.truncated
}

// captureTransport records answers for the attempts that carry a capture.
type captureTransport struct{ next http.RoundTripper }

func (t captureTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(req)
	c, _ := req.Context().Value(captureKey{}).(*capture)
	if c == nil || resp == nil {
		return resp, err
	}
	c.mu.Lock()
	c.status, c.resp, c.truncated = resp.StatusCode, c.resp[:0], false
	c.mu.Unlock()
	resp.Body = &teeBody{ReadCloser: resp.Body, c: c}
	return resp, err
}

// teeBody copies the first bytes read, up to its capture's limit, into it.
type teeBody struct {
	io.ReadCloser
	c *capture
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.c.mu.Lock()
		room := max(b.c.limit-len(b.c.resp), 0)
		b.c.resp = append(b.c.resp, p[:min(n, room)]...)
		b.c.truncated = b.c.truncated || n > room
		b.c.mu.Unlock()
	}
	return n, err
}

// withCapture returns ctx carrying a new capture of up to limit bytes when
// attempts are logged.
func (r *Router) withCapture(ctx context.Context, limit int) (context.Context, *capture) {
	if r.attempts == nil {
		return ctx, nil
	}
	c := &capture{limit: limit}
	return context.WithValue(ctx, captureKey{}, c), c
}

// logAttempt hands one attempt's entry to the log writer; it never waits.
func (r *Router) logAttempt(p *pair, c *capture, msg headerGetter, id string, attempt int, start time.Time, took time.Duration, derr *deliveryError) {
	if c == nil {
		return
	}
	status, resp, truncated := c.result()
	e := bus.AttemptLogEntry{
		Time:       start.UTC(),
		TaskID:     id,
		RequestID:  msg.Get(bus.HeaderCERequestID),
		Route:      p.route.name,
		Outgoing:   p.dest.cfg.Name,
		Attempt:    attempt,
		Status:     status,
		DurationMS: float64(took.Microseconds()) / 1000,
		// Secrets the destination echoed are masked before the cut.
		Response: p.dest.redact.response(resp, truncated),
	}
	if derr != nil {
		e.Error = derr.Error()
		if derr.status != 0 || status == 0 {
			e.Status = derr.status
		}
	}
	data, err := appendAttemptEntry(make([]byte, 0, 256+len(e.Response)+len(e.Error)), &e)
	if err != nil {
		r.log.Warn("delivery attempt entry not encoded", zap.String("task_id", id), zap.Error(err))
		return
	}
	r.attempts.Write(bus.AttemptLogSubject(e.Route, e.Outgoing), data)
}

// appendAttemptEntry appends e as encoding/json writes it, byte for byte,
// without its reflection (a few µs per delivery): the test holds the two
// together.
func appendAttemptEntry(b []byte, e *bus.AttemptLogEntry) ([]byte, error) {
	b = append(b, `{"time":`...)
	if y := e.Time.Year(); e.Time.Location() == time.UTC && y >= 0 && y <= 9999 {
		// What MarshalJSON writes for these, without its allocation.
		b = append(e.Time.AppendFormat(append(b, '"'), time.RFC3339Nano), '"')
	} else {
		t, err := e.Time.MarshalJSON()
		if err != nil {
			return nil, err
		}
		b = append(b, t...)
	}
	var err error
	b = appendJSONString(append(b, `,"task_id":`...), e.TaskID)
	b = appendJSONString(append(b, `,"request_id":`...), e.RequestID)
	b = appendJSONString(append(b, `,"route":`...), e.Route)
	b = appendJSONString(append(b, `,"outgoing":`...), e.Outgoing)
	b = strconv.AppendInt(append(b, `,"attempt":`...), int64(e.Attempt), 10)
	b = strconv.AppendInt(append(b, `,"status":`...), int64(e.Status), 10)
	b = append(b, `,"duration_ms":`...)
	if b, err = appendJSONFloat(b, e.DurationMS); err != nil {
		return nil, err
	}
	b = appendJSONString(append(b, `,"error":`...), e.Error)
	b = appendJSONString(append(b, `,"response":`...), e.Response)
	return append(b, '}'), nil
}

// appendJSONString quotes s as encoding/json does: plain printable ASCII
// as it is, anything else (escapes, HTML characters, non-ASCII, invalid
// UTF-8) through encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always encodes
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendJSONFloat writes f as encoding/json's float64 encoder does.
func appendJSONFloat(b []byte, f float64) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("duration_ms %v is not a JSON number", f)
	}
	return parsers.AppendJSONFloat(b, f), nil
}

// headerGetter is the part of a task's headers an attempt entry reads.
type headerGetter interface{ Get(string) string }
