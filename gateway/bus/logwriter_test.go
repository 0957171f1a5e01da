package bus

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/test/natstest"
)

func TestLogWriterPublishesInOrderAndFlushesOnClose(t *testing.T) {
	s := natstest.Start(t)
	_, js := natstest.Connect(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: LogStream, Subjects: []string{"log.>"}}); err != nil {
		t.Fatal(err)
	}
	w := NewLogWriter(js, 100, zap.NewNop())
	const n = 50
	for i := range n {
		if !w.Write("log.test.x", []byte(fmt.Sprint(i))) {
			t.Fatalf("entry %d not queued with room for 100", i)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	if w.Write("log.test.x", []byte("late")) {
		t.Error("Write after Close was queued")
	}
	st, err := js.Stream(ctx, LogStream)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		m, err := st.GetMsg(ctx, uint64(i+1))
		if err != nil {
			t.Fatalf("entry %d: %v (Close returned before it was stored)", i, err)
		}
		if string(m.Data) != fmt.Sprint(i) {
			t.Errorf("entry %d = %q, want the order of Write", i, m.Data)
		}
	}
	if w.Dropped() != 0 || w.Failed() != 0 {
		t.Errorf("dropped %d, failed %d; want none", w.Dropped(), w.Failed())
	}
}

// A publish that hangs (nothing acks the subject) fills the queue: Write
// then drops and counts, without waiting.
func TestLogWriterDropsAndCountsWhenFullWithoutWaiting(t *testing.T) {
	s := natstest.Start(t)
	nc, js := natstest.Connect(t, s)
	sub, err := nc.SubscribeSync("log.hang") // takes the publish, never acks it
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	w := NewLogWriter(js, 2, zap.NewNop())
	// Once the subscriber has the first entry, its publish hangs (for up to
	// logPublishTimeout) and the queue alone takes entries.
	if !w.Write("log.hang", []byte("first")) {
		t.Fatal("the first entry was not queued")
	}
	if _, err := sub.NextMsg(10 * time.Second); err != nil {
		t.Fatalf("the first entry was not published: %v", err)
	}
	queued := 0
	const n = 20
	// Write waiting for room would take one publish timeout (5s) for each
	// write past the queue: far longer than this deadline.
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		for range n {
			if w.Write("log.hang", []byte("x")) {
				queued++
			}
		}
	}()
	select {
	case <-wrote:
	case <-time.After(30 * time.Second):
		t.Fatalf("%d writes did not return within 30s: Write waited", n)
	}
	if queued != 2 || w.Dropped() != n-2 {
		t.Errorf("queued %d, dropped %d of %d while a publish hangs; want 2 queued (the queue) and the rest dropped and counted", queued, w.Dropped(), n)
	}
	// The hanging publish ends with the connection.
	nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	if w.Failed() == 0 {
		t.Error("no failed publish counted")
	}
}

// An entry no stream takes is counted failed as soon as NATS answers that
// nobody took it, not after the publish timeout.
func TestLogWriterCountsEntriesNoStreamTakes(t *testing.T) {
	s := natstest.Start(t)
	_, js := natstest.Connect(t, s)
	w := NewLogWriter(js, 10, zap.NewNop())
	for i := range 3 {
		if !w.Write("log.nowhere", []byte(fmt.Sprint(i))) {
			t.Fatalf("entry %d not queued", i)
		}
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	if took := time.Since(start); took >= logPublishTimeout {
		t.Errorf("Close took %s: the entries waited out the publish timeout", took)
	}
	if w.Failed() != 3 || w.Dropped() != 0 {
		t.Errorf("failed %d, dropped %d; want 3 failed", w.Failed(), w.Dropped())
	}
}

func TestNilLogWriterDropsQuietly(t *testing.T) {
	var w *LogWriter
	if w.Write("log.x", nil) {
		t.Error("a nil LogWriter queued an entry")
	}
	if err := w.Close(context.Background()); err != nil {
		t.Error(err)
	}
}

// BenchmarkLogWriter is how fast one LogWriter stores 1 KiB entries (the
// request log of a busy webhook): a queue of 1,000, filled, then flushed.
// The log stream's persist modes run side by side: "default" writes each
// entry with its own syscall, "async" (what logPersistMode gives the embedded
// server) lets nats-server write them in batches. cpu-ns/entry counts the
// broker too, which runs in this process.
//
//	go test -run '^$' -bench LogWriter -count 6 ./gateway/bus/
func BenchmarkLogWriter(b *testing.B) {
	for _, mode := range []jetstream.PersistModeType{jetstream.DefaultPersistMode, jetstream.AsyncPersistMode} {
		b.Run("persist="+mode.String(), func(b *testing.B) {
			s := natstest.Start(b)
			_, js := natstest.Connect(b, s)
			ctx := context.Background()
			sc := streamConfigs(configs.NATS{})[2]
			sc.PersistMode = mode
			if _, err := js.CreateStream(ctx, sc); err != nil {
				b.Fatal(err)
			}
			entry := make([]byte, 1024)
			const n = 1000
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				w := NewLogWriter(js, n, zap.NewNop())
				for range n {
					if !w.Write("log.requests.bench", entry) {
						b.Fatal("queue full")
					}
				}
				if err := w.Close(ctx); err != nil {
					b.Fatal(err)
				}
				if w.Failed() != 0 {
					b.Fatalf("%d entries failed", w.Failed())
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "entries/s")
			b.ReportMetric(float64(processCPU()-cpu0)/float64(n*b.N), "cpu-ns/entry")
		})
	}
}

// processCPU is the user and system CPU time of the process so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
