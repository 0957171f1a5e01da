package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/hookgate/hookgate/gateway/bus"
)

// Bounds of the log endpoints: how many entries one answer holds, and how
// long one read of HOOKGATE_LOG may take before it answers with what it has.
const (
	defaultLogLimit = 50
	maxLogLimit     = 1000
	logReadTimeout  = 5 * time.Second
	// requestLogWindow is how long after its start a request's entry may
	// be written (read timeouts, publish timeouts): the search for one
	// request id ends there.
	requestLogWindow = 15 * time.Minute
)

// registerLogs adds the request log, delivery log and replay endpoints.
func (s *Server) registerLogs() {
	s.mux.Handle("/api/v1/webhooks/{id}/requests", s.api(http.MethodGet, s.requests))
	s.mux.Handle("/api/v1/deliveries", s.api(http.MethodGet, s.deliveries))
	s.mux.Handle("/api/v1/requests/{id}/replay", s.api(http.MethodPost, s.replay))
}

// requests is GET /api/v1/webhooks/{id}/requests?limit=N&before=C: the
// webhook's logged requests, newest first, and next_before, the before of
// the older ones. Entries are masked when written.
func (s *Server) requests(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !validToken(id) {
		return &apiError{status: http.StatusBadRequest, msg: "webhook identifier must not be empty or hold '.', '*', '>' or spaces"}
	}
	pg, err := parsePage(r, defaultLogLimit, maxLogLimit)
	if err != nil {
		return err
	}
	out, next, err := newestEntries(s, r.Context(), bus.RequestLogSubject(id), pg, func(bus.RequestLogEntry) bool { return true })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf("requests", out, next))
	return nil
}

// deliveries is GET /api/v1/deliveries?route=&status=&limit=N&before=C:
// delivery attempts, newest first, and next_before. status "delivered"
// keeps the attempts that delivered their task (no error), "failed" those
// that did not (an error: a status other than 2xx, no answer, a refused
// address); empty keeps both.
func (s *Server) deliveries(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	subject := bus.AttemptLogSubjects
	route := q.Get("route")
	if route != "" {
		subject = bus.AttemptLogRouteFilter(route)
	}
	status := q.Get("status")
	if status != "" && status != "delivered" && status != "failed" {
		return &apiError{status: http.StatusBadRequest, msg: "status: use delivered or failed"}
	}
	pg, err := parsePage(r, defaultLogLimit, maxLogLimit)
	if err != nil {
		return err
	}
	out, next, err := newestEntries(s, r.Context(), subject, pg, func(e bus.AttemptLogEntry) bool {
		return (route == "" || e.Route == route) && (status != "delivered" || e.Error == "") && (status != "failed" || e.Error != "")
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf("deliveries", out, next))
	return nil
}

// replay is POST /api/v1/requests/{id}/replay: the logged request's body
// and headers through its webhook's current pipeline, validators skipped.
// It answers with the gateway's status and its answer under "response";
// 409 when the logged body is incomplete or the request never passed its
// validators, 404 when the request is not in the log.
func (s *Server) replay(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Replay == nil {
		return &apiError{status: http.StatusNotImplemented, msg: "replay is not available in this process"}
	}
	id := r.PathValue("id")
	e, err := s.findRequest(r.Context(), id)
	if err != nil {
		return err
	}
	// The refusal first: a request refused by header validators was never
	// read, so its body is incomplete too, but the refusal is the reason.
	if !validated(e.Status) {
		return &apiError{status: http.StatusConflict,
			msg: "request " + id + " cannot be replayed: it was refused before or by its validators (status " + strconv.Itoa(e.Status) + "); only a request that passed them can be"}
	}
	if e.BodyTruncated {
		return &apiError{status: http.StatusConflict,
			msg: "request " + id + " cannot be replayed: its logged body is incomplete (over 64KiB, or never read)"}
	}
	res := s.opts.Replay(r.Context(), e)
	var answer any = string(res.Body)
	if json.Valid(res.Body) {
		answer = json.RawMessage(res.Body)
	}
	writeJSON(w, res.Status, map[string]any{
		"replay_of":  id,
		"request_id": res.RequestID,
		"status":     res.Status,
		"response":   answer,
	})
	return nil
}

// validated reports whether a logged request got past its validators:
// a replay skips them, so one they refused (401, 403), or one stopped
// before them (405, 429), must not be replayed.
func validated(status int) bool {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusMethodNotAllowed, http.StatusTooManyRequests, http.StatusNotFound:
		return false
	}
	return status != 0
}

// findRequest finds a request's entry. Request ids are UUIDv7, so the id
// says when the request came in: the search starts there.
func (s *Server) findRequest(ctx context.Context, id string) (*bus.RequestLogEntry, error) {
	notFound := &apiError{status: http.StatusNotFound,
		msg: "request " + id + " is not in the request log (unknown id, logging off for its webhook, or older than the log keeps)"}
	u, err := uuid.Parse(id)
	if err != nil || u.Version() != 7 {
		return nil, notFound
	}
	if s.opts.JetStream == nil {
		return nil, &apiError{status: http.StatusServiceUnavailable, msg: "the request log is not available: no JetStream"}
	}
	sec, nsec := u.Time().UnixTime()
	at := time.Unix(sec, nsec)
	from := at.Add(-time.Second)
	var found *bus.RequestLogEntry
	err = s.scan(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{bus.RequestLogSubjects},
		DeliverPolicy:  jetstream.DeliverByStartTimePolicy,
		OptStartTime:   &from,
	}, func(m jetstream.Msg, meta *jetstream.MsgMetadata) bool {
		if meta.Timestamp.After(at.Add(requestLogWindow)) {
			return false
		}
		// Cheap test first: most entries are other requests.
		if !strings.Contains(string(m.Data()), id) {
			return true
		}
		var e bus.RequestLogEntry
		if json.Unmarshal(m.Data(), &e) == nil && e.RequestID == id {
			found = &e
			return false
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, notFound
	}
	return found, nil
}

// newest calls keep on the entries on subject below pg.before from the
// newest back, until keep accepted pg.limit of them, the log is exhausted
// or the read time is up (it then answers with what it has, and next says
// where to go on).
func (s *Server) newest(ctx context.Context, subject string, pg page, keep func([]byte) bool) (next uint64, err error) {
	st, err := s.logStream(ctx)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, logReadTimeout)
	defer cancel()
	found := false
	next, err = newestFirst(ctx, st, subject, pg.before, pg.limit, func(m jetstream.Msg, _ *jetstream.MsgMetadata) bool {
		found = true
		return keep(m.Data())
	})
	if err != nil && !found && ctx.Err() == nil {
		return 0, s.logUnavailable(err)
	}
	return next, nil // out of time: what was found is the answer
}

// newestEntries is newest for log entries of type T: those that decode and
// that keep accepts, newest first, never nil.
func newestEntries[T any](s *Server, ctx context.Context, subject string, pg page, keep func(T) bool) ([]T, uint64, error) {
	out := []T{}
	next, err := s.newest(ctx, subject, pg, func(data []byte) bool {
		var e T
		if json.Unmarshal(data, &e) != nil || !keep(e) {
			return false
		}
		out = append(out, e)
		return true
	})
	return out, next, err
}

// scan reads the log in order until visit returns false, nothing more is
// pending, or logReadTimeout ends.
func (s *Server) scan(ctx context.Context, cfg jetstream.OrderedConsumerConfig, visit func(jetstream.Msg, *jetstream.MsgMetadata) bool) error {
	st, err := s.logStream(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, logReadTimeout)
	defer cancel()
	if err := scanStream(ctx, st, cfg, visit); err != nil && ctx.Err() == nil {
		return s.logUnavailable(err)
	}
	return nil
}

func (s *Server) logStream(ctx context.Context) (jetstream.Stream, error) {
	if s.opts.JetStream == nil {
		return nil, &apiError{status: http.StatusServiceUnavailable, msg: "the log is not available: no JetStream"}
	}
	st, err := s.opts.JetStream.Stream(ctx, bus.LogStream)
	if err != nil {
		return nil, s.logUnavailable(err)
	}
	return st, nil
}

func (s *Server) logUnavailable(err error) error {
	s.log.Warn("read "+bus.LogStream, zap.Error(err))
	return &apiError{status: http.StatusServiceUnavailable, msg: "the log stream " + bus.LogStream + " cannot be read now; retry later"}
}

// validToken reports whether s can stand as one token of a NATS subject.
func validToken(s string) bool {
	return s != "" && !strings.ContainsAny(s, ".*> \t\r\n")
}
