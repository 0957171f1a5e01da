package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/tidwall/gjson"
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
// task, then Wait.
//
// Tasks are published with core NATS, each with its own reply subject on
// one inbox subscription of the Bus, and their acks are read by that
// subscription. jetstream.PublishMsgAsync would cost a future, a timer and
// a JSON decode per task: half of a single-item request's allocations.
type Batch struct {
	bus *Bus

	mu       sync.Mutex
	added    int // tasks handed to NATS; the indexes of tasks
	resolved int // tasks acked or failed
	res      BatchResult
	errIdx   int   // index of the task behind err
	err      error // the failure of the lowest index so far
	wake     chan struct{}
}

// pendingAck is a published task awaiting its ack.
type pendingAck struct {
	bt      *Batch
	idx     int
	subject string
	sent    time.Time
}

// NewBatch returns an empty Batch; Release gives it back for reuse.
func (b *Bus) NewBatch() *Batch {
	bt := batchPool.Get().(*Batch)
	bt.bus = b
	return bt
}

// batchPool keeps Batches with their wake channel: two allocations of
// every request otherwise.
var batchPool = sync.Pool{New: func() any { return &Batch{wake: make(chan struct{}, 1)} }}

// Release lets a later NewBatch reuse bt, unless some of its tasks are
// still unresolved (a Wait ended by its ctx): their acks will still reach
// bt, which is then left to the garbage collector. bt must not be used
// after Release.
func (bt *Batch) Release() {
	bt.mu.Lock()
	done := bt.resolved >= bt.added
	bt.mu.Unlock()
	if !done {
		return
	}
	select {
	case <-bt.wake: // a wake-up nobody waited for
	default:
	}
	bt.bus, bt.added, bt.resolved, bt.res, bt.errIdx, bt.err = nil, 0, 0, BatchResult{}, 0, nil
	batchPool.Put(bt)
}

// Add publishes msg without waiting for its acknowledgement; msg may be
// reused once Add returns (its Reply is replaced while Add publishes). It blocks while too many
// publishes are in flight process-wide, until ctx ends. Its error wraps
// ErrUnavailable when NATS is disconnected or ctx ended, and
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
	b := bt.bus
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: publish %s: %w", ErrUnavailable, msg.Subject, err)
	}
	// While reconnecting, nats.go would buffer the message and the request
	// would wait out its deadline; answering 503 now lets the sender retry.
	if !b.nc.IsConnected() {
		return fmt.Errorf("%w: publish %s: not connected (%s)", ErrUnavailable, msg.Subject, b.nc.Status())
	}
	if err := b.acquireSlot(ctx); err != nil {
		return fmt.Errorf("%w: publish %s: %d publishes awaiting their ack: %w", ErrUnavailable, msg.Subject, maxInFlight, err)
	}

	bt.mu.Lock()
	idx := bt.added
	bt.added++ // before publishing: the ack may come before PublishMsg returns
	bt.mu.Unlock()

	b.mu.Lock()
	b.ackSeq++
	seq := b.ackSeq
	b.inflight[seq] = pendingAck{bt: bt, idx: idx, subject: msg.Subject, sent: time.Now()}
	b.mu.Unlock()

	callerReply := msg.Reply
	msg.Reply = b.ackPrefix + strconv.FormatUint(seq, 36)
	err := b.nc.PublishMsg(msg)
	msg.Reply = callerReply
	if err == nil {
		return nil
	}
	// Nothing was sent; unless a disconnect already failed it, the task is ours to take back.
	if _, ok := b.takePending(seq); ok {
		bt.mu.Lock()
		bt.added--
		bt.mu.Unlock()
	}
	if errors.Is(err, nats.ErrMaxPayload) {
		return fmt.Errorf("publish %s: body of %d bytes: %w (the server accepts %d bytes, headers included)", msg.Subject, len(msg.Data), err, b.MaxPayload())
	}
	return fmt.Errorf("%w: publish %s: %w", ErrUnavailable, msg.Subject, err)
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
func (bt *Batch) resolve(idx int, duplicate bool, err error) {
	bt.mu.Lock()
	bt.resolved++
	if err != nil {
		bt.fail(idx, err)
	} else {
		bt.res.Published++
		if duplicate {
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

// acquireSlot takes one of maxInFlight publish slots, waiting for an ack
// to free one when all are taken, until ctx ends.
func (b *Bus) acquireSlot(ctx context.Context) error {
	select {
	case b.slots <- struct{}{}:
		return nil
	default:
	}
	select {
	case b.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// takePending removes the task awaiting the ack of seq and frees its slot;
// ok is false when it was resolved already (acked, timed out, failed).
func (b *Bus) takePending(seq uint64) (pendingAck, bool) {
	b.mu.Lock()
	p, ok := b.inflight[seq]
	if ok {
		delete(b.inflight, seq)
	}
	b.mu.Unlock()
	if ok {
		<-b.slots
	}
	return p, ok
}

// onAck reads one acknowledgement on the ack inbox.
func (b *Bus) onAck(m *nats.Msg) {
	if len(m.Subject) <= len(b.ackPrefix) {
		return
	}
	seq, err := strconv.ParseUint(m.Subject[len(b.ackPrefix):], 36, 64)
	if err != nil {
		return
	}
	p, ok := b.takePending(seq)
	if !ok {
		return // timed out or failed by a disconnect before this ack came
	}
	duplicate, err := parseAck(m)
	if err != nil {
		err = fmt.Errorf("%w: task %d on %s not stored: %w", ErrUnavailable, p.idx, p.subject, err)
	}
	p.bt.resolve(p.idx, duplicate, err)
}

// parseAck reads a JetStream publish acknowledgement without decoding it
// into a struct: the hot path looks at three fields.
func parseAck(m *nats.Msg) (duplicate bool, err error) {
	if len(m.Data) == 0 {
		if m.Header.Get("Status") == "503" {
			return false, jetstream.ErrNoStreamResponse
		}
		return false, fmt.Errorf("empty acknowledgement (status %q)", m.Header.Get("Status"))
	}
	if e := gjson.GetBytes(m.Data, "error"); e.Exists() && e.Type != gjson.Null {
		var resp struct {
			Error *jetstream.APIError `json:"error"`
		}
		if jerr := json.Unmarshal(m.Data, &resp); jerr != nil || resp.Error == nil {
			return false, fmt.Errorf("unreadable error acknowledgement %q", m.Data)
		}
		return false, resp.Error
	}
	if gjson.GetBytes(m.Data, "seq").Type != gjson.Number {
		return false, fmt.Errorf("not a JetStream acknowledgement: %q", m.Data)
	}
	return gjson.GetBytes(m.Data, "duplicate").Type == gjson.True, nil
}

// expireAcks fails every task whose ack is older than the publish timeout,
// so that an abandoned Wait never keeps slots or entries forever; it runs
// until stop is closed. It looks a few times per timeout, so a task fails
// at most a quarter of a timeout late.
func (b *Bus) expireAcks(stop <-chan struct{}) {
	timer := time.NewTimer(expiryInterval(b.PublishTimeout()))
	defer timer.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-timer.C:
			timeout := b.PublishTimeout()
			b.failPending(func(p pendingAck) bool { return now.Sub(p.sent) >= timeout }, jetstream.ErrAsyncPublishTimeout)
			timer.Reset(expiryInterval(timeout))
		}
	}
}

func expiryInterval(timeout time.Duration) time.Duration {
	return min(max(timeout/4, 10*time.Millisecond), time.Second)
}

// PublishTimeout is how long a task may wait for its ack before it fails.
func (b *Bus) PublishTimeout() time.Duration { return time.Duration(b.publishTimeout.Load()) }

// SetPublishTimeout changes PublishTimeout (nats.publish_timeout) for tasks
// in flight and to come; d <= 0 is ignored. A reload calls it.
func (b *Bus) SetPublishTimeout(d time.Duration) {
	if d > 0 {
		b.publishTimeout.Store(int64(d))
	}
}

// failPending resolves with cause every task awaiting its ack that match
// selects.
func (b *Bus) failPending(match func(pendingAck) bool, cause error) {
	var failed []pendingAck
	b.mu.Lock()
	for seq, p := range b.inflight {
		if match(p) {
			delete(b.inflight, seq)
			failed = append(failed, p)
		}
	}
	b.mu.Unlock()
	for _, p := range failed {
		<-b.slots
		p.bt.resolve(p.idx, false, fmt.Errorf("%w: task %d on %s not stored: %w", ErrUnavailable, p.idx, p.subject, cause))
	}
}
