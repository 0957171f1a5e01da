package router

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/hookgate/hookgate/gateway/bus"
)

// dlqPublishTimeout bounds the wait for the dead-letter stream's ack.
const dlqPublishTimeout = 10 * time.Second

// Bounds of a reduced dead letter: together well under JetStream's 64KiB of
// headers, and under the 2KiB the gateway leaves beside a task's body for
// its CloudEvents headers in practice.
const (
	reducedValueMax   = 512     // bytes kept of each header value
	reducedHeadersMax = 8 << 10 // bytes of the task's own headers kept in all
	droppedListMax    = 1024    // bytes of hookgate-dropped-headers
)

// errCodeHeaderTooLarge is nats-server's JSStreamHeaderExceedsMaximumErr
// (headers past 64KiB), which nats.go has no name for.
const errCodeHeaderTooLarge jetstream.ErrorCode = 10097

// deadLetter publishes the task to dlq.<route>.<outgoing> with its body and
// headers plus the hookgate-* headers, waits for the ack, then acks the task.
//
// Nats-Msg-Id is the one header replaced: kept, JetStream would drop the
// dead letter of a second pair (or a second failure after a replay) of the
// same task as a duplicate. The original is kept in hookgate-msg-id; the new
// id still de-duplicates a repeat of this very dead letter after a crash.
//
// When the dead-letter stream refuses it for good (headers past 64KiB once
// the hookgate-* ones are added, or anything but a timeout or an
// unavailable server), a reduced dead letter is stored instead: the body,
// the task's ce-* and content-type headers and the hookgate-* headers, each
// value shortened to reducedValueMax, with hookgate-dropped-headers naming
// what was left out. Only a transient failure retries the task later:
// retrying a refusal would redeliver it forever, and on an ordered pair
// hold back every task behind it.
func (r *Router) deadLetter(p *pair, msg jetstream.Msg, log *zap.Logger, derr *deliveryError, attempt int, stream string, seq uint64) {
	task := msg.Headers()
	out := nats.NewMsg(p.dlq)
	out.Data = msg.Data()
	for k, v := range task {
		// JetStream's other Nats-* headers (Nats-Expected-Stream, which a
		// replay stores with the task; rollups, TTLs, batches) direct the
		// publish that stored the task: on its dead letter they would be
		// preconditions the dead-letter stream refuses.
		if k != nats.MsgIdHdr && isNATSHeader(k) {
			continue
		}
		out.Header[k] = slices.Clone(v)
	}
	p.stamp(out.Header, task.Get(nats.MsgIdHdr), derr, attempt, stream, seq)

	err := r.publishDeadLetter(out)
	if err != nil && !transientPublish(err) {
		reduced := p.reducedDeadLetter(msg.Data(), task, derr, attempt, stream, seq)
		log.Warn("dead letter refused, storing it reduced", zap.String("subject", p.dlq),
			zap.String("dropped_headers", reduced.Header.Get(bus.HeaderDroppedHeaders)), zap.Error(err))
		err = r.publishDeadLetter(reduced)
	}
	switch {
	case err == nil:
		p.metrics.deadLettered()
		log.Warn("dead letter", zap.String("subject", p.dlq), zap.Int("status", derr.status), zap.String("error", derr.Error()))
		r.settle(log, "ack dead letter", msg.Ack())
	case tooLargePublish(err):
		// Its body alone is past what the dead-letter stream takes: no
		// retry changes that. The task stays in its stream until max_age.
		log.Error("dead letter too large even reduced; task terminated, not retried",
			zap.String("subject", p.dlq), zap.String("stream", stream), zap.Uint64("seq", seq),
			zap.Int("body_bytes", len(msg.Data())), zap.String("error", derr.Error()), zap.NamedError("publish_error", err))
		r.settle(log, "term", msg.TermWithReason("dead letter too large"))
	default:
		log.Error("dead letter not stored, will retry", zap.String("subject", p.dlq), zap.Error(err))
		r.settle(log, "nak with delay", msg.NakWithDelay(backoff(p.dest.cfg.Retry, attempt, nil)))
	}
}

// stamp sets the hookgate-* headers of a dead letter and its own Nats-Msg-Id.
func (p *pair) stamp(h nats.Header, origID string, derr *deliveryError, attempt int, stream string, seq uint64) {
	if origID != "" {
		h.Set(bus.HeaderOrigMsgID, origID)
	}
	if stream != "" {
		h.Set(nats.MsgIdHdr, fmt.Sprintf("dlq/%s/%s/%d", p.consumer.Durable, stream, seq))
	} else {
		h.Del(nats.MsgIdHdr)
	}
	h.Set(bus.HeaderError, derr.Error())
	h.Set(bus.HeaderStatus, strconv.Itoa(derr.status))
	h.Set(bus.HeaderAttempts, strconv.Itoa(attempt))
	h.Set(bus.HeaderRoute, p.route.name)
	h.Set(bus.HeaderOutgoing, p.dest.cfg.Name)
}

// reducedDeadLetter is the dead letter of a task whose full one was
// refused: its body, its ce-* and content-type headers up to
// reducedHeadersMax, and the hookgate-* headers, every value shortened to
// reducedValueMax; hookgate-dropped-headers names the task's headers left
// out, sorted.
func (p *pair) reducedDeadLetter(body []byte, task nats.Header, derr *deliveryError, attempt int, stream string, seq uint64) *nats.Msg {
	out := nats.NewMsg(p.dlq)
	out.Data = body
	names := make([]string, 0, len(task))
	for k := range task {
		names = append(names, k)
	}
	slices.Sort(names)
	var dropped []string
	budget := reducedHeadersMax
	for _, k := range names {
		if isNATSHeader(k) {
			continue // never on a dead letter; Nats-Msg-Id goes to hookgate-msg-id
		}
		lk := strings.ToLower(k)
		if !strings.HasPrefix(lk, bus.CEHeaderPrefix) && lk != bus.HeaderContentType {
			dropped = append(dropped, k)
			continue
		}
		vs := make([]string, len(task[k]))
		size := 0
		for i, v := range task[k] {
			vs[i] = clip(v, reducedValueMax)
			size += len(k) + len(": \r\n") + len(vs[i])
		}
		if size > budget {
			dropped = append(dropped, k)
			continue
		}
		budget -= size
		out.Header[k] = vs
	}
	p.stamp(out.Header, task.Get(nats.MsgIdHdr), derr, attempt, stream, seq)
	for k, vs := range out.Header {
		if strings.HasPrefix(k, bus.HeaderPrefix) {
			for i, v := range vs {
				vs[i] = clip(v, reducedValueMax)
			}
		}
	}
	if len(dropped) > 0 {
		out.Header.Set(bus.HeaderDroppedHeaders, clip(strings.Join(dropped, ", "), droppedListMax))
	}
	return out
}

// publishDeadLetter stores m in the dead-letter stream and waits for its ack.
func (r *Router) publishDeadLetter(m *nats.Msg) error {
	ctx, cancel := context.WithTimeout(context.Background(), dlqPublishTimeout)
	defer cancel()
	_, err := r.js.PublishMsg(ctx, m)
	return err
}

// transientPublish reports whether a failed publish may succeed later as it
// is: no answer in time, no stream listening, the connection down, or the
// server unable to store for now (a JetStream API error of status 5xx:
// offline, no quorum, storage full). Anything else refuses that message.
func transientPublish(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code >= 500
	}
	for _, e := range []error{
		context.DeadlineExceeded, nats.ErrTimeout,
		jetstream.ErrNoStreamResponse, nats.ErrNoResponders,
		nats.ErrConnectionClosed, nats.ErrConnectionDraining, nats.ErrConnectionReconnecting,
		nats.ErrDisconnected, nats.ErrReconnectBufExceeded, nats.ErrStaleConnection,
		nats.ErrNoServers, nats.ErrInvalidConnection,
	} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// tooLargePublish reports whether a publish was refused for its size: past
// the server's max payload, the stream's max message size or 64KiB of
// headers.
func tooLargePublish(err error) bool {
	if errors.Is(err, nats.ErrMaxPayload) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == jetstream.JSErrCodeStreamMessageExceedsMaximum || apiErr.ErrorCode == errCodeHeaderTooLarge)
}

// isNATSHeader reports whether k is one of the Nats-* headers that direct
// JetStream, in any case.
func isNATSHeader(k string) bool {
	return len(k) > 5 && strings.EqualFold(k[:5], "nats-")
}
