package router

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// Headers added to a dead letter (SPEC §6).
const (
	// HeaderError says why the task was not delivered.
	HeaderError = "hookgate-error"
	// HeaderStatus is the last HTTP status, "0" when none came.
	HeaderStatus = "hookgate-status"
	// HeaderAttempts is how many deliveries were attempted.
	HeaderAttempts = "hookgate-attempts"
	// HeaderRoute names the route.
	HeaderRoute = "hookgate-route"
	// HeaderOutgoing names the outgoing configuration.
	HeaderOutgoing = "hookgate-outgoing"
	// HeaderOrigMsgID keeps the task's own Nats-Msg-Id, which the dead
	// letter cannot carry (see deadLetter); a replay restores it from here.
	HeaderOrigMsgID = "hookgate-msg-id"
)

// dlqPublishTimeout bounds the wait for the dead-letter stream's ack.
const dlqPublishTimeout = 10 * time.Second

// handle settles one task of a pair: skip it (filter), deliver it, schedule
// a retry, or dead-letter it. Every path ends in exactly one of Ack, Nak or
// NakWithDelay, so JetStream always knows where the task stands.
func (r *Router) handle(p *pair, msg jetstream.Msg, log *zap.Logger) {
	attempt := 1
	var stream string
	var seq uint64
	if meta, err := msg.Metadata(); err == nil {
		attempt = int(meta.NumDelivered)
		stream, seq = meta.Stream, meta.Sequence.Stream
	}
	id := msg.Headers().Get("ce-id")
	if id == "" {
		// Not a hookgate task; the stream position is still a stable key.
		id = fmt.Sprintf("%s-%d", stream, seq)
	}
	log = log.With(zap.String("task_id", id), zap.Int("attempt", attempt))
	body, contentType, keep, err := p.prepare(msg.Data(), msg.Headers().Get("content-type"))
	if err != nil {
		// Nothing a retry changes: the task is a dead letter at once.
		r.deadLetter(p, msg, log, &deliveryError{err: err}, attempt, stream, seq)
		return
	}
	if !keep {
		r.settle(log, "ack filtered", msg.Ack())
		return
	}

	stopBeat := r.heartbeat(msg, p.consumer.AckWait)
	sendCtx, captured := r.withCapture(r.abortCtx, p.dest.redact.captureLimit())
	start := time.Now()
	derr := p.dest.send(sendCtx, r.stopCtx, body, contentType, id)
	took := time.Since(start)
	stopBeat()
	// A stop is no attempt of the destination's: the task goes back unlogged.
	if derr == nil || (!errors.Is(derr, errStopping) && r.abortCtx.Err() == nil) {
		r.logAttempt(p, captured, msg.Headers(), id, attempt, start, took, derr)
	}

	switch {
	case derr == nil:
		p.metrics.attempt(took.Seconds())
		p.metrics.delivery()
		log.Debug("delivered", zap.Duration("took", took))
		r.settle(log, "ack", msg.Ack())
	case errors.Is(derr, errStopping) || r.abortCtx.Err() != nil:
		// Not the destination's fault: give the task straight back, and
		// count nothing.
		r.settle(log, "nak", msg.Nak())
	case derr.retryable && attempt < p.dest.cfg.Retry.MaxAttempts:
		p.metrics.attempt(took.Seconds())
		p.metrics.retried()
		delay := backoff(p.dest.cfg.Retry, attempt, nil)
		if derr.hasRetry {
			delay = min(derr.retryAfter, p.dest.cfg.Retry.MaxInterval)
		}
		log.Info("delivery failed, will retry", zap.Int("status", derr.status), zap.Duration("delay", delay), zap.Error(derr))
		r.settle(log, "nak with delay", msg.NakWithDelay(delay))
	default:
		p.metrics.attempt(took.Seconds())
		r.deadLetter(p, msg, log, derr, attempt, stream, seq)
	}
}

// heartbeat tells JetStream the task is still being worked on, so that a
// slow call or a rate-limit wait does not run past AckWait into a second
// delivery. The returned func stops it.
func (r *Router) heartbeat(msg jetstream.Msg, ackWait time.Duration) func() {
	every := r.heartbeatAt(ackWait)
	if every <= 0 {
		return func() {}
	}
	// A re-armed timer rather than a goroutine per task: most deliveries
	// end long before the first beat.
	var mu sync.Mutex
	stopped := false
	var t *time.Timer
	mu.Lock()
	t = time.AfterFunc(every, func() {
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			_ = msg.InProgress()
			t.Reset(every)
		}
	})
	mu.Unlock()
	return func() {
		mu.Lock()
		stopped = true
		mu.Unlock()
		t.Stop()
	}
}

// deadLetter publishes the task to dlq.<route>.<outgoing> with its body and
// headers plus the hookgate-* headers, waits for the ack, then acks the task.
// If the dead-letter stream does not take it, the task is retried later
// rather than lost.
//
// Nats-Msg-Id is the one header replaced: kept, JetStream would drop the
// dead letter of a second pair (or a second failure after a replay) of the
// same task as a duplicate. The original is kept in hookgate-msg-id; the new
// id still de-duplicates a repeat of this very dead letter after a crash.
func (r *Router) deadLetter(p *pair, msg jetstream.Msg, log *zap.Logger, derr *deliveryError, attempt int, stream string, seq uint64) {
	out := nats.NewMsg(p.dlq)
	out.Data = msg.Data()
	for k, v := range msg.Headers() {
		// JetStream's other Nats-* headers (Nats-Expected-Stream, which a
		// replay stores with the task; rollups, TTLs, batches) direct the
		// publish that stored the task: on its dead letter they would be
		// preconditions the dead-letter stream refuses.
		if k != nats.MsgIdHdr && len(k) > 5 && strings.EqualFold(k[:5], "nats-") {
			continue
		}
		out.Header[k] = slices.Clone(v)
	}
	if orig := out.Header.Get(nats.MsgIdHdr); orig != "" {
		out.Header.Set(HeaderOrigMsgID, orig)
	}
	if stream != "" {
		out.Header.Set(nats.MsgIdHdr, fmt.Sprintf("dlq/%s/%s/%d", p.consumer.Durable, stream, seq))
	} else {
		out.Header.Del(nats.MsgIdHdr)
	}
	out.Header.Set(HeaderError, derr.Error())
	out.Header.Set(HeaderStatus, strconv.Itoa(derr.status))
	out.Header.Set(HeaderAttempts, strconv.Itoa(attempt))
	out.Header.Set(HeaderRoute, p.route.name)
	out.Header.Set(HeaderOutgoing, p.dest.cfg.Name)

	ctx, cancel := context.WithTimeout(context.Background(), dlqPublishTimeout)
	defer cancel()
	if _, err := r.js.PublishMsg(ctx, out); err != nil {
		log.Error("dead letter not stored, will retry", zap.String("subject", p.dlq), zap.Error(err))
		r.settle(log, "nak with delay", msg.NakWithDelay(backoff(p.dest.cfg.Retry, attempt, nil)))
		return
	}
	p.metrics.deadLettered()
	log.Warn("dead letter", zap.String("subject", p.dlq), zap.Int("status", derr.status), zap.String("error", derr.Error()))
	r.settle(log, "ack dead letter", msg.Ack())
}

// settle logs a failed Ack/Nak; the task is then redelivered after AckWait.
func (r *Router) settle(log *zap.Logger, what string, err error) {
	if err != nil {
		log.Warn(what+" failed; JetStream redelivers after ack_wait", zap.Error(err))
	}
}
