package gateway

import (
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"go.uber.org/zap"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
	"github.com/hookgate/hookgate/validators"
)

// handleWebhook is the ingest path: look up, check, validate what needs no
// body, read, validate the rest, parse, publish, and answer 200 only once
// JetStream acknowledged every task.
func (s *Server) handleWebhook(c echo.Context) (err error) {
	start := s.now()
	id := newRequestID()
	req := c.Request()
	c.Response().Header()[echo.HeaderXRequestID] = []string{id}

	identifier := c.Param("identifier")
	tr := s.tracer.begin(req, identifier)
	status, tasks := 0, 0
	var wm *webhookMetrics
	var w *webhook
	// Only for a logged webhook: the body is copied before its buffer goes
	// back to the pool; unread (a 413, a read error) counts as truncated.
	loggedText, loggedCut := "", true
	bodyRead := false
	defer func() {
		stored, msg := tasks, ""
		if err != nil {
			re := asRequestError(err)
			status, stored, msg = re.Status, re.Published, re.Message
			// Refused before its body was read to the end: the answer goes
			// out at once and the connection is closed, so the server
			// neither waits for the rest of the body nor reads it (SPEC §11).
			if !bodyRead && req.ContentLength != 0 {
				c.Response().Header().Set("Connection", "close")
				// Connection: close alone still lets net/http read up to
				// 256 KiB of the unread body first; a past read deadline
				// ends that wait. A replay's recorder cannot, and need not.
				_ = http.NewResponseController(c.Response()).SetReadDeadline(time.Unix(1, 0))
			}
		}
		if s.reqlog != nil && w.logging() {
			s.logRequest(&bus.RequestLogEntry{
				Time: start.UTC(), RequestID: id, Webhook: identifier, RemoteAddr: req.RemoteAddr,
				Method: req.Method, Path: req.URL.Path, Headers: w.redact.header(req.Header),
				Body: loggedText, BodyTruncated: loggedCut, Status: status, Error: msg, Tasks: stored,
				DurationMS: float64(s.now().Sub(start).Microseconds()) / 1000,
			})
		}
		tr.end(w, id, status, stored, msg)
		s.metrics.request(wm, status, s.now().Sub(start).Seconds())
		// Checked first: the fields escape into a slice on the heap (448
		// bytes a request) even when the level drops the line.
		if ce := s.log.Check(zap.InfoLevel, "request"); ce != nil {
			ce.Write(
				zap.String("request_id", id),
				zap.String("webhook", identifier),
				zap.String("method", req.Method),
				zap.Int("status", status),
				zap.Int("tasks", tasks),
				zap.Duration("duration", s.now().Sub(start)),
				zap.String("remote_addr", req.RemoteAddr),
			)
		}
	}()

	rt := s.rt.Load()
	w = rt.webhooks[identifier]
	if w == nil {
		return reject(http.StatusNotFound, "unknown webhook")
	}
	wm = w.metrics(s.metrics)
	if !s.load.requests.take(1, rt.maxConcurrent) {
		return busy()
	}
	defer s.load.requests.give(1)
	if !w.allows(req.Method) {
		e := reject(http.StatusMethodNotAllowed, "method not allowed")
		e.Header = http.Header{"Allow": {w.allow}}
		return e
	}
	if w.limiter != nil && !w.limiter.Allow() {
		e := reject(http.StatusTooManyRequests, "rate limit exceeded")
		wait := math.Ceil(1 / float64(w.limiter.Limit()))
		e.Header = http.Header{"Retry-After": {strconv.Itoa(max(1, int(wait)))}}
		return e
	}
	if req.ContentLength > w.maxBody {
		return reject(http.StatusRequestEntityTooLarge, w.maxBodyMsg)
	}

	vr := &validators.Request{
		Method:     req.Method,
		URL:        req.URL,
		Header:     req.Header,
		RemoteAddr: req.RemoteAddr,
		Now:        start,
	}
	replay, chain := isReplay(req.Context()), w.chain
	if replay {
		chain = nil // validated when it first came in
	}
	if err := tr.validate(req.Context(), wm, chain, vr, false); err != nil {
		return err
	}
	fwd, err := w.forwardedHeaders(req.Header)
	if err != nil {
		return err
	}

	if !s.bus.Ready() {
		// Not connected yet (serve started before NATS) or right now: the
		// sender retries, and the body is not read for nothing.
		return unavailable(bus.ErrUnavailable)
	}
	b, err := readBody(req.Body, w.maxBody, req.ContentLength, spooler{dir: rt.Config.Server.SpoolDir, max: rt.spoolMax, budget: &s.load.spool})
	switch {
	case errors.Is(err, errTooLarge):
		return reject(http.StatusRequestEntityTooLarge, w.maxBodyMsg)
	case errors.Is(err, errSpoolFull):
		return busy()
	case err != nil:
		return bodyReadError(err)
	}
	bodyRead = true
	defer b.Close()
	if s.reqlog != nil && w.logging() {
		loggedText, loggedCut = loggedBody(b)
	}
	vr.Body = b
	if err := tr.validate(req.Context(), wm, chain, vr, true); err != nil {
		return err
	}

	// Once publishing starts it finishes on its own clock: a sender hanging
	// up must not leave half a request stored by accident. Every task the
	// bus has not seen acknowledged within publish_timeout fails by itself,
	// so no deadline is needed here.
	ctx := context.WithoutCancel(req.Context())
	p := s.newPublication(w, id, start, req, b, fwd)
	defer p.release()
	p.trace = tr
	if replay {
		p.dedup = id // stored again, not dropped as a repeat of the original
	}
	res, err := p.run(ctx, req.Header.Get(echo.HeaderContentType))
	if wm != nil {
		p.countPublished(wm, res.Published)
	}
	if err != nil {
		if res.Published > 0 || p.started {
			b.keepBuffer()
		}
		re := asRequestError(err)
		if p.started && (re.Status >= 500 || w.anyIncremental()) {
			re.Published, re.Partial = res.Published, true
		}
		return re
	}
	tasks = res.Published
	status = http.StatusOK
	if w.respond != nil && w.respond.Status != 0 {
		status = w.respond.Status // what respondOK sends
	}
	return s.respondOK(c, w, id, res)
}

// validate runs the validators of chain that read the body (needsBody) or
// those that do not, in chain order, and counts a refusal under the kind
// of the validator that made it.
func validate(ctx context.Context, wm *webhookMetrics, chain validators.Chain, r *validators.Request, needsBody bool) error {
	for i, v := range chain {
		if v.NeedsBody() != needsBody {
			continue
		}
		if err := v.Validate(ctx, r); err != nil {
			var rej *validators.Rejection
			if wm != nil && i < len(wm.validators) && errors.As(err, &rej) {
				wm.validators[i].Inc()
			}
			return err
		}
	}
	return nil
}

// bodyReadError is the answer to a body that did not arrive whole. It
// names what the sender did, never the connection's addresses; a failure
// of our own spool is an internal error, logged with its cause.
func bodyReadError(err error) error {
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.Is(err, errSpool):
		return &requestError{Status: http.StatusInternalServerError, Message: "internal error", cause: err}
	case errors.As(err, &ne) && ne.Timeout():
		return reject(http.StatusRequestTimeout, "body not received within server.read_timeout")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return reject(http.StatusBadRequest, "could not read body: the connection ended before the body did")
	case errors.As(err, &oe):
		err = oe.Err
	}
	return reject(http.StatusBadRequest, "could not read body: "+err.Error())
}

func newRequestID() string {
	u, err := uuid.NewV7()
	if err != nil {
		// Only a failing system random source gets here.
		return uuid.NewString()
	}
	return u.String()
}

func (s *Server) respondOK(c echo.Context, w *webhook, id string, res bus.BatchResult) error {
	if r := w.respond; r != nil {
		body := strings.NewReplacer("{request_id}", id, "{tasks}", strconv.Itoa(res.Published)).Replace(r.Body)
		return c.Blob(r.Status, r.ContentType, []byte(body))
	}
	out := make([]byte, 0, 96)
	out = append(out, `{"request_id":"`...)
	out = append(out, id...)
	out = append(out, `","tasks":`...)
	out = strconv.AppendInt(out, int64(res.Published), 10)
	if res.Published > 0 && res.Duplicates == res.Published {
		out = append(out, `,"duplicate":true`...)
	}
	out = append(out, '}')
	// Set as a shared value, so that echo finds it set and allocates none;
	// net/http copies the handler's header before it writes it.
	c.Response().Header()[echo.HeaderContentType] = jsonContentType
	return c.JSONBlob(http.StatusOK, out)
}

// jsonContentType is the Content-Type header value of every JSON answer;
// never modified.
var jsonContentType = []string{echo.MIMEApplicationJSON}

func (w *webhook) anyIncremental() bool {
	for _, t := range w.targets {
		if t.splitter.Incremental() {
			return true
		}
	}
	return false
}

// itemTooLarge is the 413 for an item NATS would refuse.
func itemTooLarge(index int, maxPayload int64) error {
	return reject(http.StatusRequestEntityTooLarge,
		"item "+strconv.Itoa(index)+" exceeds max payload "+configs.FormatSize(configs.Size(maxPayload)))
}
