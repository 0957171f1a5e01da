package router

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/hookgate/hookgate/gateway/bus"
)

// handle settles one task of a pair: skip it (filter), deliver it, schedule
// a retry, or dead-letter it. Every path ends in exactly one of Ack, Nak,
// NakWithDelay or (a dead letter no stream takes) Term, so JetStream always
// knows where the task stands. stopBeat ends the task's heartbeat, which
// runs from its fetch so that a task waiting for a worker or on an open
// circuit stays this process's (no redelivery, no attempt spent).
func (r *Router) handle(p *pair, msg jetstream.Msg, stopBeat func(), log *zap.Logger) {
	attempt := 1
	var stream string
	var seq uint64
	if meta, err := msg.Metadata(); err == nil {
		stream, seq = meta.Stream, meta.Sequence.Stream
		// Deliveries handed back from an open circuit made no attempt.
		attempt = max(int(meta.NumDelivered)-r.circuits.parkedOf(p.consumer.Durable, seq), 1)
	}
	id := msg.Headers().Get(bus.HeaderCEID)
	if id == "" {
		// Not a hookgate task; the stream position is still a stable key.
		id = fmt.Sprintf("%s-%d", stream, seq)
	}
	// Lazy: the fields are encoded only when a line is written, which at
	// the default level is never for a delivered task (a 1KiB buffer each).
	log = log.WithLazy(zap.String("task_id", id), zap.Int("attempt", attempt))
	body, contentType, keep, err := p.prepare(msg.Data(), msg.Headers())
	if err != nil {
		// Nothing a retry changes: the task is a dead letter at once.
		stopBeat()
		r.deadLetter(p, msg, log, &deliveryError{err: err}, attempt, stream, seq)
		r.circuits.unpark(p.consumer.Durable, seq)
		return
	}
	if !keep {
		stopBeat()
		r.settle(log, "ack filtered", msg.Ack())
		r.circuits.unpark(p.consumer.Durable, seq)
		return
	}

	var (
		derr  *deliveryError
		start time.Time
		took  time.Duration
	)
	for {
		probe, err := p.circuit.wait(r.stopCtx)
		if err != nil {
			// The Router stops (a reload or shutdown) while the task
			// waits: JetStream will count the redelivery, this process
			// takes it off again. A restart forgets it: one attempt.
			stopBeat()
			if seq != 0 {
				r.circuits.park(p.consumer.Durable, seq)
			}
			r.settle(log, "nak on stop", msg.Nak())
			return
		}
		sendCtx, captured := r.withCapture(r.abortCtx, p.dest.redact.captureLimit())
		sendCtx = r.traceAttempt(sendCtx, p, msg.Headers(), id, attempt)
		start = time.Now()
		derr = p.dest.send(sendCtx, r.stopCtx, body, contentType, id)
		took = time.Since(start)
		stopping := derr != nil && (errors.Is(derr, errStopping) || r.abortCtx.Err() != nil)
		// A stop is no attempt of the destination's: the task goes back unlogged.
		if !stopping {
			r.logAttempt(p, captured, msg.Headers(), id, attempt, start, took, derr)
		}
		o := circuitOutcome(derr, stopping)
		p.circuit.done(time.Now(), probe, o)
		if !probe || o != outcomeFailed {
			break
		}
		// A failed probe tells of the destination, not of the task: the
		// task keeps its attempt and waits for the next probe.
		p.metrics.attempt(took.Seconds())
		p.metrics.retried()
		log.Info("circuit probe failed; the circuit stays open", zap.Int("status", derr.status), zap.Error(derr))
	}
	stopBeat()

	switch {
	case derr == nil:
		p.metrics.attempt(took.Seconds())
		p.metrics.delivery()
		log.Debug("delivered", zap.Duration("took", took))
		r.settle(log, "ack", msg.Ack())
		r.circuits.unpark(p.consumer.Durable, seq)
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
		r.circuits.unpark(p.consumer.Durable, seq)
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

// circuitOutcome is what an attempt's result tells the pair's breaker: a
// retryable failure counts against the destination, any answer (a 4xx
// too) shows it is up, and an attempt that never reached it tells nothing.
func circuitOutcome(derr *deliveryError, stopping bool) outcome {
	switch {
	case derr == nil:
		return outcomeAnswered
	case stopping:
		return outcomeNone
	case derr.retryable:
		return outcomeFailed
	case derr.status != 0:
		return outcomeAnswered
	default:
		return outcomeNone
	}
}

// settle logs a failed Ack/Nak; the task is then redelivered after AckWait.
func (r *Router) settle(log *zap.Logger, what string, err error) {
	if err != nil {
		log.Warn(what+" failed; JetStream redelivers after ack_wait", zap.Error(err))
	}
}
