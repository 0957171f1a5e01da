package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
)

// The lookups behind the operator page's search box: one request by its
// request id, one task by its ce-id. Both ids are UUIDv7-based, so they say
// when the request came in, and every read starts there instead of at the
// start of a stream.

// maxLookupAttempts bounds the attempts one lookup lists (a request of many
// tasks to a failing destination has many).
const maxLookupAttempts = 1000

// taskIDPattern is a ce-id (SPEC §7): <request id>-<incoming>-<item index>.
var taskIDPattern = regexp.MustCompile(`^([0-9a-fA-F-]{36})-([a-z0-9_-]+)-([0-9]{1,9})$`)

func (s *Server) registerLookup() {
	s.mux.Handle("/api/v1/requests/{id}", s.api(http.MethodGet, s.request))
	s.mux.Handle("/api/v1/tasks/{id}", s.api(http.MethodGet, s.task))
}

// request is GET /api/v1/requests/{id}: the request's log entry (null when
// its webhook does not log requests) and the delivery attempts of its
// tasks, oldest first. Complete is false when the attempts could not all be
// read within the read time (or past maxLookupAttempts).
func (s *Server) request(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	at, ok := requestTime(id)
	if !ok {
		return &apiError{status: http.StatusBadRequest,
			msg: "request id: use the X-Request-Id of a request, a UUIDv7 such as 0190b6a4-3c1e-7b2a-9f00-2a1c3e4d5f60"}
	}
	entry, err := s.findRequest(r.Context(), id)
	var ae *apiError
	if errors.As(err, &ae) && ae.status == http.StatusNotFound {
		entry, err = nil, nil
	}
	if err != nil {
		return err
	}
	cfg := s.opts.Current()
	subjects := []string{bus.AttemptLogSubjects}
	if entry != nil {
		if wc := webhookOf(cfg, entry.Webhook); wc != nil {
			subjects = attemptSubjects(cfg, append([]string{wc.Incoming}, wc.AdditionalIncoming...))
		}
	}
	attempts, complete, err := s.attemptsSince(r.Context(), at, subjects, id, func(e *bus.AttemptLogEntry) bool { return e.RequestID == id })
	if err != nil {
		return err
	}
	if entry == nil && len(attempts) == 0 && complete {
		return &apiError{status: http.StatusNotFound,
			msg: "request " + id + " is neither in the request log nor in the delivery log (unknown id, logging off for its webhook and no route took its tasks, or older than the log keeps)"}
	}
	writeJSON(w, http.StatusOK, map[string]any{"request": entry, "attempts": attempts, "complete": complete})
	return nil
}

// taskView is a task as the task stream holds it. Headers holds its
// CloudEvents headers and content-type only: forwarded headers may carry a
// sender's credentials.
type taskView struct {
	Seq           uint64            `json:"seq"`
	Subject       string            `json:"subject"`
	Time          time.Time         `json:"time"`
	Headers       map[string]string `json:"headers"`
	Body          string            `json:"body"`
	BodyTruncated bool              `json:"body_truncated"`
}

// task is GET /api/v1/tasks/{id}: the task in the task stream (null once
// the stream no longer holds it), its delivery attempts oldest first and
// its dead letters. Complete is false when a read ran out of time.
func (s *Server) task(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	m := taskIDPattern.FindStringSubmatch(id)
	var at time.Time
	ok := m != nil
	if ok {
		at, ok = requestTime(m[1])
	}
	if !ok {
		return &apiError{status: http.StatusBadRequest,
			msg: "task id: use a task's ce-id, <request id>-<incoming>-<item index>, such as 0190b6a4-3c1e-7b2a-9f00-2a1c3e4d5f60-orders-0"}
	}
	requestID, incoming := m[1], m[2]
	cfg := s.opts.Current()
	task, taskComplete, err := s.findTask(r.Context(), cfg, id, incoming, at)
	if err != nil {
		return err
	}
	attempts, attemptsComplete, err := s.attemptsSince(r.Context(), at, attemptSubjects(cfg, []string{incoming}), id,
		func(e *bus.AttemptLogEntry) bool { return e.TaskID == id })
	if err != nil {
		return err
	}
	dead, deadComplete, err := s.deadLettersOf(r.Context(), id, at)
	if err != nil {
		return err
	}
	complete := taskComplete && attemptsComplete && deadComplete
	if task == nil && len(attempts) == 0 && len(dead) == 0 && complete {
		return &apiError{status: http.StatusNotFound,
			msg: "task " + id + " is in neither the task stream, the delivery log nor the dead letters (unknown id, or older than they keep)"}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"task": task, "request_id": requestID, "attempts": attempts, "dead_letters": dead, "complete": complete,
	})
	return nil
}

// findTask finds the task on its incoming's subject among the tasks
// published from just before its request came in to requestLogWindow
// after, reading headers only, then reads that one message whole.
func (s *Server) findTask(ctx context.Context, cfg *configs.Config, id, incoming string, at time.Time) (*taskView, bool, error) {
	if s.opts.JetStream == nil {
		return nil, false, &apiError{status: http.StatusServiceUnavailable, msg: "tasks are not available: no JetStream"}
	}
	name := s.taskStream()
	st, err := s.opts.JetStream.Stream(ctx, name)
	if err != nil {
		return nil, false, s.streamUnavailable(name, err)
	}
	subject := bus.TaskSubjects
	if cfg != nil {
		for _, in := range cfg.Incoming {
			if in.Name == incoming && in.Subject != "" {
				subject = in.Subject
			}
		}
	}
	from := at.Add(-time.Second)
	var seq uint64
	complete, err := s.scanWithin(ctx, name, st, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subject},
		DeliverPolicy:  jetstream.DeliverByStartTimePolicy,
		OptStartTime:   &from,
		HeadersOnly:    true,
	}, func(m jetstream.Msg, meta *jetstream.MsgMetadata) bool {
		if meta.Timestamp.After(at.Add(requestLogWindow)) {
			return false
		}
		if m.Headers().Get(bus.HeaderCEID) == id {
			seq = meta.Sequence.Stream
			return false
		}
		return true
	})
	if err != nil || seq == 0 {
		return nil, complete, err
	}
	raw, err := st.GetMsg(ctx, seq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, true, nil // removed since (max_age)
	}
	if err != nil {
		return nil, false, s.streamUnavailable(name, err)
	}
	v := &taskView{Seq: raw.Sequence, Subject: raw.Subject, Time: raw.Time.UTC(), Headers: map[string]string{}}
	for k, vs := range raw.Header {
		lk := strings.ToLower(k)
		if (strings.HasPrefix(lk, bus.CEHeaderPrefix) || lk == bus.HeaderContentType) && len(vs) > 0 {
			v.Headers[lk] = vs[0]
		}
	}
	v.Body, v.BodyTruncated = clipBody(raw.Data)
	return v, true, nil
}

// attemptsSince lists the attempt entries on subjects from at on that
// match, oldest first. id is in every entry that can match: entries
// without it are not decoded.
func (s *Server) attemptsSince(ctx context.Context, at time.Time, subjects []string, id string, match func(*bus.AttemptLogEntry) bool) ([]bus.AttemptLogEntry, bool, error) {
	out := []bus.AttemptLogEntry{}
	if len(subjects) == 0 {
		return out, true, nil // no route takes these tasks
	}
	st, err := s.logStream(ctx)
	if err != nil {
		return nil, false, err
	}
	from := at.Add(-time.Second)
	full := false
	complete, err := s.scanWithin(ctx, bus.LogStream, st, jetstream.OrderedConsumerConfig{
		FilterSubjects: subjects,
		DeliverPolicy:  jetstream.DeliverByStartTimePolicy,
		OptStartTime:   &from,
	}, func(m jetstream.Msg, _ *jetstream.MsgMetadata) bool {
		if !strings.Contains(string(m.Data()), id) {
			return true
		}
		var e bus.AttemptLogEntry
		if json.Unmarshal(m.Data(), &e) == nil && match(&e) {
			out = append(out, e)
		}
		full = len(out) >= maxLookupAttempts
		return !full
	})
	return out, complete && !full, err
}

// deadLettersOf lists the dead letters of the task stored from at on.
func (s *Server) deadLettersOf(ctx context.Context, id string, at time.Time) ([]deadLetterView, bool, error) {
	st, err := s.dlqStream(ctx)
	if err != nil {
		return nil, false, err
	}
	from := at.Add(-time.Second)
	out := []deadLetterView{}
	complete, err := s.scanWithin(ctx, bus.DLQStream, st, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{bus.DLQSubjects},
		DeliverPolicy:  jetstream.DeliverByStartTimePolicy,
		OptStartTime:   &from,
	}, func(m jetstream.Msg, meta *jetstream.MsgMetadata) bool {
		if m.Headers().Get(bus.HeaderCEID) == id {
			out = append(out, viewDeadLetter(m, meta))
		}
		return len(out) < maxLookupAttempts
	})
	return out, complete, err
}

// scanWithin is scanStream bounded by logReadTimeout; complete is false
// when the time ran out first, which is not an error: what was read is the
// answer.
func (s *Server) scanWithin(ctx context.Context, name string, st jetstream.Stream, cfg jetstream.OrderedConsumerConfig, visit func(jetstream.Msg, *jetstream.MsgMetadata) bool) (complete bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, logReadTimeout)
	defer cancel()
	err = scanStream(ctx, st, cfg, visit)
	switch {
	case err == nil:
		return true, nil
	case ctx.Err() != nil:
		return false, nil
	}
	return false, s.streamUnavailable(name, err)
}

func (s *Server) streamUnavailable(name string, err error) error {
	s.log.Warn("read "+name, zap.Error(err))
	return &apiError{status: http.StatusServiceUnavailable, msg: "the stream " + name + " cannot be read now; retry later"}
}

// requestTime is when the request of a UUIDv7 request id came in.
func requestTime(id string) (time.Time, bool) {
	u, err := uuid.Parse(id)
	if err != nil || u.Version() != 7 || len(id) != 36 {
		return time.Time{}, false
	}
	sec, nsec := u.Time().UnixTime()
	return time.Unix(sec, nsec), true
}

func webhookOf(cfg *configs.Config, identifier string) *configs.Webhook {
	if cfg == nil {
		return nil
	}
	for i := range cfg.Webhooks {
		if cfg.Webhooks[i].Identifier == identifier {
			return &cfg.Webhooks[i]
		}
	}
	return nil
}

// attemptSubjects are the attempt-log subjects of every pair whose route
// reads one of incomings; every attempt subject when the config is unknown.
func attemptSubjects(cfg *configs.Config, incomings []string) []string {
	if cfg == nil {
		return []string{bus.AttemptLogSubjects}
	}
	out := []string{}
	for _, rc := range cfg.Routes {
		if !slices.Contains(incomings, rc.Incoming) {
			continue
		}
		for _, o := range rc.Outgoing {
			if subject := bus.AttemptLogSubject(rc.Name, o); !slices.Contains(out, subject) {
				out = append(out, subject)
			}
		}
	}
	return out
}
