package bus

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

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
	batch := make([]logEntry, 0, logBatch)
	futures := make([]jetstream.PubAckFuture, 0, logBatch)
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
				futures = w.publish(batch, futures[:0])
			}
		}
		batch = w.take(batch)
		futures = w.publish(batch, futures[:0])
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
// logPublishTimeout; it returns futures for reuse.
func (w *LogWriter) publish(batch []logEntry, futures []jetstream.PubAckFuture) []jetstream.PubAckFuture {
	for _, e := range batch {
		f, err := w.js.PublishAsync(e.subject, e.data)
		if err != nil {
			w.fail(e.subject, err)
			continue
		}
		futures = append(futures, f)
	}
	timeout := time.NewTimer(logPublishTimeout)
	defer timeout.Stop()
	for i, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			w.fail(f.Msg().Subject, err)
		case <-timeout.C:
			for _, late := range futures[i:] {
				w.fail(late.Msg().Subject, context.DeadlineExceeded)
			}
			return futures
		}
	}
	return futures
}

// fail counts an entry JetStream did not store, logging sparingly.
func (w *LogWriter) fail(subject string, err error) {
	if n := w.failed.Add(1); n&(n-1) == 0 {
		w.log.Warn("log entry not stored", zap.String("subject", subject), zap.Uint64("failed", n), zap.Error(err))
	}
}
