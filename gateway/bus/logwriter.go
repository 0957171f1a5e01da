package bus

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// LogWriterQueue is the default number of log entries a LogWriter holds
// while its goroutine publishes; more are dropped and counted.
const LogWriterQueue = 1024

// logPublishTimeout bounds one log entry's publish: a slow or absent
// JetStream costs log entries, never requests.
const logPublishTimeout = 5 * time.Second

// LogWriter publishes request-log and delivery-attempt entries (SPEC §9)
// to the HOOKGATE_LOG stream from one goroutine. Write never waits: when
// the queue is full the entry is dropped and counted, so that the request
// and delivery paths never depend on the log.
type LogWriter struct {
	js      jetstream.JetStream
	log     *zap.Logger
	queue   chan logEntry
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	dropped atomic.Uint64
	failed  atomic.Uint64

	// Entries are core publishes whose replies, inbox<batch>.<index>, one
	// subscription reads, as Batch does for tasks: the jetstream package's
	// PublishAsync cost a future, a reply registration and a JSON decode per
	// entry (one per delivery attempt: about 3µs of a delivery's CPU).
	inbox    string
	acks     sync.Mutex
	batch    []logEntry    // the batch being published
	gen      uint64        // its number: acks of an older batch are ignored
	pending  []bool        // its entries neither acked nor failed
	left     int           // how many pending are true
	settled  chan struct{} // closed when left reaches 0
	lost     chan struct{} // closed when the ack subscription ends
	lostOnce sync.Once
}

type logEntry struct {
	subject string
	data    []byte
}

// NewLogWriter starts a LogWriter publishing on js with room for queue
// entries (LogWriterQueue when queue <= 0). End it with Close.
func NewLogWriter(js jetstream.JetStream, queue int, log *zap.Logger) *LogWriter {
	if queue <= 0 {
		queue = LogWriterQueue
	}
	if log == nil {
		log = zap.NewNop()
	}
	w := &LogWriter{
		js:    js,
		log:   log,
		queue: make(chan logEntry, queue),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
		lost:  make(chan struct{}),
	}
	go w.run()
	return w
}

// Write queues data for subject and reports whether it was queued. data
// must not be changed afterwards. A nil LogWriter drops everything.
func (w *LogWriter) Write(subject string, data []byte) bool {
	if w == nil {
		return false
	}
	select {
	case <-w.stop:
		return false
	default:
	}
	select {
	case w.queue <- logEntry{subject: subject, data: data}:
		return true
	default:
	}
	// Counted, and logged sparingly: a flood of drops must not become a
	// flood of warnings.
	if n := w.dropped.Add(1); n&(n-1) == 0 {
		w.log.Warn("log entries dropped: the "+LogStream+" queue is full", zap.Uint64("dropped", n), zap.String("subject", subject))
	}
	return false
}

// Dropped is how many entries Write dropped because the queue was full.
func (w *LogWriter) Dropped() uint64 { return w.dropped.Load() }

// Failed is how many queued entries JetStream did not take.
func (w *LogWriter) Failed() uint64 { return w.failed.Load() }

// Close stops taking entries and publishes those queued, up to ctx.
func (w *LogWriter) Close(ctx context.Context) error {
	if w == nil {
		return nil
	}
	w.once.Do(func() { close(w.stop) })
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// logBatch bounds the entries published before their acks are awaited:
// one round trip per batch instead of per entry (about 4x the entries/s).
const logBatch = 256

func (w *LogWriter) run() {
	defer close(w.done)
	nc := w.js.Conn()
	var sub *nats.Subscription
	if nc != nil {
		w.inbox = nc.NewInbox() + "."
		var err error
		if sub, err = nc.Subscribe(w.inbox+"*.*", w.onAck); err != nil {
			w.log.Warn("log entry acks not read; entries will count as failed", zap.Error(err))
			sub = nil
		} else {
			sub.SetClosedHandler(func(string) { w.lostOnce.Do(func() { close(w.lost) }) })
			defer func() { _ = sub.Unsubscribe() }()
		}
	}
	publish := func(batch []logEntry) {
		if sub == nil {
			for _, e := range batch {
				w.fail(e.subject, nats.ErrConnectionClosed)
			}
			return
		}
		w.publish(nc, batch)
	}
	batch := make([]logEntry, 0, logBatch)
	for {
		select {
		case e := <-w.queue:
			batch = append(batch[:0], e)
		case <-w.stop:
			// Close: publish what is queued, then end.
			for {
				batch = w.take(batch[:0])
				if len(batch) == 0 {
					return
				}
				publish(batch)
			}
		}
		batch = w.take(batch)
		publish(batch)
	}
}

// take appends queued entries to batch, without waiting, up to logBatch.
func (w *LogWriter) take(batch []logEntry) []logEntry {
	for len(batch) < logBatch {
		select {
		case e := <-w.queue:
			batch = append(batch, e)
		default:
			return batch
		}
	}
	return batch
}

// publish sends batch asynchronously and waits for every ack, up to
// logPublishTimeout or the end of the connection.
func (w *LogWriter) publish(nc *nats.Conn, batch []logEntry) {
	w.acks.Lock()
	w.gen++
	gen := w.gen
	w.batch, w.left, w.settled = batch, len(batch), make(chan struct{})
	w.pending = w.pending[:0]
	for range batch {
		w.pending = append(w.pending, true)
	}
	settled := w.settled
	w.acks.Unlock()

	prefix := w.inbox + strconv.FormatUint(gen, 36) + "."
	m := &nats.Msg{}
	for i, e := range batch {
		m.Subject, m.Reply, m.Data = e.subject, prefix+strconv.Itoa(i), e.data
		if err := nc.PublishMsg(m); err != nil {
			w.resolve(gen, i, err)
		}
	}
	timeout := time.NewTimer(logPublishTimeout)
	defer timeout.Stop()
	select {
	case <-settled:
	case <-w.lost:
		w.failPending(gen, nats.ErrConnectionClosed)
	case <-timeout.C:
		w.failPending(gen, context.DeadlineExceeded)
	}
}

// onAck reads the acknowledgement of one entry.
func (w *LogWriter) onAck(m *nats.Msg) {
	g, i, ok := strings.Cut(strings.TrimPrefix(m.Subject, w.inbox), ".")
	if !ok {
		return
	}
	gen, err := strconv.ParseUint(g, 36, 64)
	if err != nil {
		return
	}
	idx, err := strconv.Atoi(i)
	if err != nil {
		return
	}
	_, err = parseAck(m)
	w.resolve(gen, idx, err)
}

// resolve settles entry idx of batch gen, counting err as a failure; a
// batch given up already, or an entry settled already, is left alone.
func (w *LogWriter) resolve(gen uint64, idx int, err error) {
	w.acks.Lock()
	if gen != w.gen || idx < 0 || idx >= len(w.pending) || !w.pending[idx] {
		w.acks.Unlock()
		return
	}
	w.pending[idx] = false
	subject := w.batch[idx].subject
	// Counted before the batch settles: Close returns once it has, and
	// Failed must then include this entry.
	var n uint64
	if err != nil {
		n = w.failed.Add(1)
	}
	if w.left--; w.left == 0 {
		close(w.settled)
	}
	w.acks.Unlock()
	if err != nil {
		w.warnFailed(n, subject, err)
	}
}

// failPending fails every entry of batch gen still waiting for its ack.
func (w *LogWriter) failPending(gen uint64, err error) {
	w.acks.Lock()
	type lateEntry struct {
		subject string
		n       uint64
	}
	var late []lateEntry
	if gen == w.gen {
		for i, p := range w.pending {
			if p {
				w.pending[i] = false
				late = append(late, lateEntry{w.batch[i].subject, w.failed.Add(1)})
			}
		}
		if w.left > 0 {
			w.left = 0
			close(w.settled)
		}
	}
	w.acks.Unlock()
	for _, e := range late {
		w.warnFailed(e.n, e.subject, err)
	}
}

// fail counts an entry JetStream did not store, logging sparingly.
func (w *LogWriter) fail(subject string, err error) {
	w.warnFailed(w.failed.Add(1), subject, err)
}

// warnFailed logs the nth failed entry when n is a power of two, so that a
// flood of failures is not a flood of warnings.
func (w *LogWriter) warnFailed(n uint64, subject string, err error) {
	if n&(n-1) == 0 {
		w.log.Warn("log entry not stored", zap.String("subject", subject), zap.Uint64("failed", n), zap.Error(err))
	}
}
