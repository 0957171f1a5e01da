package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
)

// Bounds of the dead-letter endpoints.
const (
	defaultDLQLimit = 50
	maxDLQLimit     = 1000
	// dlqBodyMax is how much of a dead letter's body a listing shows.
	dlqBodyMax = 64 << 10
	// dlqReadTimeout bounds a listing; dlqReplayTimeout a replay, which
	// waits for JetStream's ack of every task it puts back. Both stay under
	// the admin listener's write timeout.
	dlqReadTimeout   = 10 * time.Second
	dlqReplayTimeout = 90 * time.Second
)

// registerDLQ adds the dead-letter endpoints (SPEC §9).
func (s *Server) registerDLQ() {
	s.mux.Handle("/api/v1/dlq", s.api(http.MethodGet, s.dlqList))
	s.mux.Handle("/api/v1/dlq/{route}/replay", s.api(http.MethodPost, s.dlqReplay))
}

// deadLetterView is one dead letter in GET /api/v1/dlq. Headers holds its
// hookgate-* headers only: the task's own headers may carry forwarded
// credentials.
type deadLetterView struct {
	Seq           uint64            `json:"seq"`
	Subject       string            `json:"subject"`
	TaskID        string            `json:"task_id"`
	Time          time.Time         `json:"time"`
	Headers       map[string]string `json:"headers"`
	Body          string            `json:"body"`
	BodyTruncated bool              `json:"body_truncated"`
}

// dlqList is GET /api/v1/dlq?route=NAME&limit=N&before=C: the route's dead
// letters in HOOKGATE_DLQ, newest first, and next_before. A route no longer
// configured is listed too, so that what it left behind stays visible.
func (s *Server) dlqList(w http.ResponseWriter, r *http.Request) error {
	route := r.URL.Query().Get("route")
	if route == "" {
		return &apiError{status: http.StatusBadRequest, msg: "route is required; use /api/v1/dlq?route=NAME"}
	}
	pg, err := parsePage(r, defaultDLQLimit, maxDLQLimit)
	if err != nil {
		return err
	}
	st, err := s.dlqStream(r.Context())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), dlqReadTimeout)
	defer cancel()
	out := []deadLetterView{}
	next, err := s.dlqNewest(ctx, st, bus.DLQRouteFilter(route), pg, func(m jetstream.Msg, meta *jetstream.MsgMetadata) bool {
		if m.Headers().Get(bus.HeaderRoute) != route {
			return false // another route whose name maps to the same subject token
		}
		out = append(out, viewDeadLetter(m, meta))
		return true
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageOf("dead_letters", out, next))
	return nil
}

func viewDeadLetter(m jetstream.Msg, meta *jetstream.MsgMetadata) deadLetterView {
	v := deadLetterView{
		Seq:     meta.Sequence.Stream,
		Subject: m.Subject(),
		TaskID:  m.Headers().Get(bus.HeaderCEID),
		Time:    meta.Timestamp.UTC(),
		Headers: map[string]string{},
	}
	for k, vs := range m.Headers() {
		if isHookgateHeader(k) && len(vs) > 0 {
			v.Headers[strings.ToLower(k)] = vs[0]
		}
	}
	v.Body, v.BodyTruncated = clipBody(m.Data())
	return v
}

// clipBody is body as text, cut to dlqBodyMax bytes when longer (truncated
// true), never inside a UTF-8 sequence.
func clipBody(body []byte) (text string, truncated bool) {
	if len(body) > dlqBodyMax {
		body = body[:dlqBodyMax]
		for i := 0; i < utf8.UTFMax-1 && len(body) > 0; i++ {
			if r, size := utf8.DecodeLastRune(body); r != utf8.RuneError || size > 1 {
				break
			}
			body = body[:len(body)-1]
		}
		truncated = true
	}
	return string(body), truncated
}

func isHookgateHeader(k string) bool {
	return len(k) > len(bus.HeaderPrefix) && strings.EqualFold(k[:len(bus.HeaderPrefix)], bus.HeaderPrefix)
}

// dlqReplay is POST /api/v1/dlq/{route}/replay[?outgoing=NAME]. Every dead
// letter of the route (or of the one pair) that was stored before the call
// is published again on the pair's replay subject, which only that pair's
// consumer takes, so no other route or outgoing of the same incoming gets
// the task twice; once JetStream acknowledged it, the dead letter is
// deleted. The replay's Nats-Msg-Id names the dead letter, so a replay that
// is repeated (a crash between publish and delete, two callers at once)
// within the stream's duplicates window is dropped by JetStream.
func (s *Server) dlqReplay(w http.ResponseWriter, r *http.Request) error {
	route := r.PathValue("route")
	outs, err := s.replayTargets(route, r.URL.Query().Get("outgoing"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), dlqReplayTimeout)
	defer cancel()
	st, err := s.dlqStream(ctx)
	if err != nil {
		return err
	}
	for _, out := range outs {
		if err := s.takesReplays(ctx, route, out); err != nil {
			return err
		}
	}
	replayed := 0
	for _, out := range outs {
		n, err := s.replayPair(ctx, st, route, out)
		replayed += n
		if err != nil {
			s.log.Warn("dead-letter replay stopped", zap.String("route", route), zap.String("outgoing", out),
				zap.Int("replayed", replayed), zap.Error(err))
			return &apiError{status: http.StatusServiceUnavailable,
				msg: fmt.Sprintf("replay stopped after %d dead letters: %v; the rest are still in %s, call again", replayed, err, bus.DLQStream)}
		}
	}
	s.log.Info("dead letters replayed", zap.String("route", route), zap.Strings("outgoing", outs), zap.Int("replayed", replayed))
	writeJSON(w, http.StatusOK, map[string]int{"replayed": replayed})
	return nil
}

// replayTargets are the outgoing names a replay of route covers: outgoing
// alone, or every outgoing of the route. Only pairs of the configuration in
// force are replayed: no consumer takes the replay subject of another.
func (s *Server) replayTargets(route, outgoing string) ([]string, error) {
	var cfg *configs.Config
	if s.opts.Current != nil {
		cfg = s.opts.Current()
	}
	var rc *configs.Route
	if cfg != nil {
		for i := range cfg.Routes {
			if cfg.Routes[i].Name == route {
				rc = &cfg.Routes[i]
				break
			}
		}
	}
	switch {
	case rc == nil:
		return nil, &apiError{status: http.StatusNotFound,
			msg: fmt.Sprintf("route %q is not configured; its dead letters stay listed and can be replayed once the route is back", route)}
	case rc.Disabled:
		return nil, &apiError{status: http.StatusConflict,
			msg: fmt.Sprintf("route %q is disabled; enable it, then replay its dead letters", route)}
	case outgoing == "":
		return rc.Outgoing, nil
	case !slices.Contains(rc.Outgoing, outgoing):
		return nil, &apiError{status: http.StatusNotFound,
			msg: fmt.Sprintf("route %q has no outgoing %q; use one of %s", route, outgoing, strings.Join(rc.Outgoing, ", "))}
	}
	return []string{outgoing}, nil
}

// takesReplays checks that the pair's durable consumer exists and filters
// its replay subject, so that a replayed task cannot sit unread.
func (s *Server) takesReplays(ctx context.Context, route, out string) error {
	name := bus.ConsumerName(route, out)
	c, err := s.opts.JetStream.Consumer(ctx, s.taskStream(), name)
	if err == nil && slices.Contains(c.CachedInfo().Config.FilterSubjects, bus.ReplaySubject(route, out)) {
		return nil
	}
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		s.log.Warn("consumer info", zap.String("consumer", name), zap.Error(err))
		return &apiError{status: http.StatusServiceUnavailable, msg: "the consumer " + name + " cannot be read now; retry later"}
	}
	return &apiError{status: http.StatusConflict,
		msg: fmt.Sprintf("the router does not run route %q to outgoing %q (consumer %s); check the router's log or reload, then replay", route, out, name)}
}

// replayPair replays the dead letters of one pair stored before it began.
func (s *Server) replayPair(ctx context.Context, st jetstream.Stream, route, out string) (int, error) {
	subject := bus.DLQSubject(route, out)
	last, err := st.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", subject, err)
	}
	stream, target := s.taskStream(), bus.ReplaySubject(route, out)
	replayed := 0
	var failed error
	err = s.dlqScan(ctx, st, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}},
		func(m jetstream.Msg, meta *jetstream.MsgMetadata) bool {
			seq := meta.Sequence.Stream
			if seq > last.Sequence {
				return false // dead-lettered again after the replay began
			}
			h := m.Headers()
			if h.Get(bus.HeaderRoute) != route || h.Get(bus.HeaderOutgoing) != out {
				return true
			}
			task := nats.NewMsg(target)
			task.Data = m.Data()
			for k, vs := range h {
				if !isHookgateHeader(k) {
					task.Header[k] = slices.Clone(vs)
				}
			}
			task.Header.Set(nats.MsgIdHdr, fmt.Sprintf("replay/%s/%d/%s", bus.DLQStream, seq, h.Get(bus.HeaderOrigMsgID)))
			ack, err := s.opts.JetStream.PublishMsg(ctx, task, jetstream.WithExpectStream(stream))
			if err != nil {
				failed = fmt.Errorf("publish to %s in stream %s: %w", target, stream, err)
				return false
			}
			if !ack.Duplicate {
				replayed++
			}
			if err := st.DeleteMsg(ctx, seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
				// Replayed all the same; a second replay within the
				// duplicates window is dropped as a duplicate.
				s.log.Warn("replayed dead letter not deleted", zap.Uint64("seq", seq), zap.Error(err))
			}
			return true
		})
	if failed != nil {
		return replayed, failed
	}
	return replayed, err
}

func (s *Server) taskStream() string { return bus.TaskStream(s.opts.Stream) }

func (s *Server) dlqStream(ctx context.Context) (jetstream.Stream, error) {
	if s.opts.JetStream == nil {
		return nil, &apiError{status: http.StatusServiceUnavailable, msg: "dead letters are not available: no JetStream"}
	}
	ctx, cancel := context.WithTimeout(ctx, dlqReadTimeout)
	defer cancel()
	st, err := s.opts.JetStream.Stream(ctx, bus.DLQStream)
	if err != nil {
		return nil, s.dlqUnavailable(err)
	}
	return st, nil
}

// dlqNewest calls keep on the dead letters matching filter, newest first;
// next is the before of the older ones.
func (s *Server) dlqNewest(ctx context.Context, st jetstream.Stream, filter string, pg page, keep func(jetstream.Msg, *jetstream.MsgMetadata) bool) (next uint64, err error) {
	next, err = newestFirst(ctx, st, filter, pg.before, pg.limit, keep)
	if err != nil {
		return 0, s.dlqUnavailable(err)
	}
	return next, nil
}

// dlqScan reads dead letters in order until visit returns false.
func (s *Server) dlqScan(ctx context.Context, st jetstream.Stream, cfg jetstream.OrderedConsumerConfig, visit func(jetstream.Msg, *jetstream.MsgMetadata) bool) error {
	if err := scanStream(ctx, st, cfg, visit); err != nil {
		return s.dlqUnavailable(err)
	}
	return nil
}

func (s *Server) dlqUnavailable(err error) error {
	s.log.Warn("read "+bus.DLQStream, zap.Error(err))
	return &apiError{status: http.StatusServiceUnavailable, msg: "the dead-letter stream " + bus.DLQStream + " cannot be read now; retry later"}
}
