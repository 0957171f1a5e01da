package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// BatchResult counts what JetStream acknowledged for a Batch.
type BatchResult struct {
	// Published counts acknowledged tasks, duplicates included.
	Published int
	// Duplicates counts acks JetStream marked as duplicates (same
	// Nats-Msg-Id within the stream's duplicates window): not stored again.
	Duplicates int
}

// A Batch publishes one request's tasks asynchronously and waits for every
// acknowledgement. Add and Wait are called from one goroutine: Add each
// task, then Wait. A message must not be changed or added again until Wait
// has returned: it may be resent, and it identifies its acknowledgement.
//
// Acks reach a Batch through the JetStream context's ack and error handlers
// rather than through PubAckFutures: a future costs four allocations per
// task (its Ok and Err channels), a Batch costs two per request.
type Batch struct {
	bus *Bus

	mu       sync.Mutex
	added    int // tasks handed to JetStream; the indexes of tasks
	resolved int // tasks acked or failed
	res      BatchResult
	errIdx   int   // index of the task behind err
	err      error // the failure of the lowest index so far
	wake     chan struct{}
}

// ackTarget finds the Batch and index of a message when its ack arrives.
type ackTarget struct {
	bt  *Batch
	idx int
}

// NewBatch returns an empty Batch.
func (b *Bus) NewBatch() *Batch { return &Batch{bus: b} }

// Add publishes msg without waiting for its acknowledgement. It blocks while
// too many publishes are in flight process-wide, until ctx ends. Its error
// wraps ErrUnavailable when NATS is disconnected or ctx ended, and
// nats.ErrMaxPayload when msg is larger than the server accepts. A failed
// Add is also reported by Wait, unless an earlier task failed.
func (bt *Batch) Add(ctx context.Context, msg *nats.Msg) error {
	if err := bt.add(ctx, msg); err != nil {
		bt.mu.Lock()
		bt.fail(bt.added, err) // after every task added so far
		bt.mu.Unlock()
		return err
	}
	return nil
}

func (bt *Batch) add(ctx context.Context, msg *nats.Msg) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: publish %s: %w", ErrUnavailable, msg.Subject, err)
	}
	// While reconnecting, nats.go would buffer the message and the request
	// would wait out its deadline; answering 503 now lets the sender retry.
	if !bt.bus.nc.IsConnected() {
		return fmt.Errorf("%w: publish %s: not connected (%s)", ErrUnavailable, msg.Subject, bt.bus.nc.Status())
	}

	bt.mu.Lock()
	idx := bt.added
	bt.added++ // before publishing: the ack may come before PublishMsgAsync returns
	bt.mu.Unlock()
	if err := bt.bus.track(msg, ackTarget{bt: bt, idx: idx}); err != nil {
		bt.unadd()
		return err
	}

	for {
		_, err := bt.bus.js.PublishMsgAsync(msg)
		if err == nil {
			return nil
		}
		if errors.Is(err, jetstream.ErrTooManyStalledMsgs) && ctx.Err() == nil {
			continue // stalled for one stall wait; try again until ctx ends
		}
		// No future was registered, so no handler will ever see msg.
		bt.bus.untrack(msg)
		bt.unadd()
		switch {
		case errors.Is(err, nats.ErrMaxPayload):
			return fmt.Errorf("publish %s: body of %d bytes: %w (the server accepts %d bytes, headers included)", msg.Subject, len(msg.Data), err, bt.bus.MaxPayload())
		case ctx.Err() != nil:
			return fmt.Errorf("%w: publish %s: %w", ErrUnavailable, msg.Subject, ctx.Err())
		default:
			return fmt.Errorf("%w: publish %s: %w", ErrUnavailable, msg.Subject, err)
		}
	}
}

func (bt *Batch) unadd() {
	bt.mu.Lock()
	bt.added--
	bt.mu.Unlock()
}

// Wait returns after every added task was acknowledged or failed, or when
// ctx ends. The result counts the acks received either way, so a failed
// request can report how many of its tasks were stored. The error is the
// first failure in Add order (publish rejected, ack timeout, no stream
// responding, disconnect, a failed Add), or ctx's end, wrapped with
// ErrUnavailable unless it is a too-large message.
func (bt *Batch) Wait(ctx context.Context) (BatchResult, error) {
	bt.mu.Lock()
	for bt.resolved < bt.added {
		if bt.wake == nil {
			bt.wake = make(chan struct{}, 1)
		}
		wake := bt.wake
		bt.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			bt.mu.Lock()
			res, err := bt.res, bt.err
			if missing := bt.added - bt.resolved; missing > 0 && err == nil {
				err = fmt.Errorf("%w: %d of %d tasks not acknowledged: %w", ErrUnavailable, missing, bt.added, ctx.Err())
			}
			bt.mu.Unlock()
			return res, err
		}
		bt.mu.Lock()
	}
	res, err := bt.res, bt.err
	bt.mu.Unlock()
	return res, err
}

// resolve records the outcome of task idx and wakes Wait when it was the last.
func (bt *Batch) resolve(idx int, ack *jetstream.PubAck, err error) {
	bt.mu.Lock()
	bt.resolved++
	if err != nil {
		bt.fail(idx, err)
	} else {
		bt.res.Published++
		if ack.Duplicate {
			bt.res.Duplicates++
		}
	}
	if bt.resolved >= bt.added && bt.wake != nil {
		select {
		case bt.wake <- struct{}{}:
		default: // Wait has a wake-up pending already
		}
	}
	bt.mu.Unlock()
}

// fail keeps the failure of the lowest task index. bt.mu is held.
func (bt *Batch) fail(idx int, err error) {
	if bt.err == nil || idx < bt.errIdx {
		bt.errIdx, bt.err = idx, err
	}
}

// track registers msg as in flight for a Batch. A message in flight twice
// could not tell its two acks apart, so that is refused.
func (b *Bus) track(msg *nats.Msg, f ackTarget) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, dup := b.inflight[msg]; dup {
		return fmt.Errorf("publish %s: this *nats.Msg is already in flight; build one message per task", msg.Subject)
	}
	b.inflight[msg] = f
	return nil
}

func (b *Bus) untrack(msg *nats.Msg) (ackTarget, bool) {
	b.mu.Lock()
	f, ok := b.inflight[msg]
	if ok {
		delete(b.inflight, msg)
	}
	b.mu.Unlock()
	return f, ok
}

// onAck is the JetStream context's ack handler. It runs on the ack-processing
// goroutine and must not block.
func (b *Bus) onAck(_ jetstream.JetStream, msg *nats.Msg, ack *jetstream.PubAck) {
	if f, ok := b.untrack(msg); ok {
		f.bt.resolve(f.idx, ack, nil)
	}
}

// onAsyncErr is the JetStream context's error handler: a rejected publish,
// an ack timeout, no stream responding, or a disconnect. It may run with
// the publisher's lock held and must not call into JetStream.
func (b *Bus) onAsyncErr(_ jetstream.JetStream, msg *nats.Msg, err error) {
	if f, ok := b.untrack(msg); ok {
		f.bt.resolve(f.idx, nil, fmt.Errorf("%w: task %d on %s not stored: %w", ErrUnavailable, f.idx, msg.Subject, err))
	}
}
