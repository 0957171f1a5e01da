package gateway

import (
	"bytes"
	"context"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/hookgate/hookgate/gateway/bus"
)

// BenchmarkEnvelopeParts splits what the SPEC §7 envelope costs JetStream
// per stored task, on 2,000 pre-split 500-byte items per op, each case on
// a fresh in-process broker: bare bodies; the 11 ce-* and content-type
// headers without Nats-Msg-Id; Nats-Msg-Id alone; the whole envelope. The
// Msg-Id cases are what the de-duplication window (stream.duplicates)
// costs the broker: each id stays in its map for the whole window.
//
//	go test -run '^$' -bench EnvelopeParts -count 3 ./gateway/
func BenchmarkEnvelopeParts(b *testing.B) {
	const items, size = 2000, 500
	for _, c := range []struct {
		name         string
		headers, mid bool
	}{{"bare", false, false}, {"headers", true, false}, {"msgid", false, true}, {"envelope", true, true}} {
		b.Run(c.name, func(b *testing.B) {
			bs := inProcessBus(b)
			item := bytes.Repeat([]byte("x"), size)
			env := newEnvelope("erp")
			run := 0
			measure(b, func() {
				run++
				storeRequest(b, bs, env.run(run, items), items, "tasks.baseline", item, func(msg *nats.Msg) {
					switch {
					case !c.headers && !c.mid:
						msg.Header = nil
					case !c.headers:
						msg.Header = nats.Header{nats.MsgIdHdr: msg.Header[nats.MsgIdHdr]}
					case !c.mid:
						delete(msg.Header, nats.MsgIdHdr)
					}
				})
			})
			b.ReportMetric(float64(items*b.N)/b.Elapsed().Seconds(), "items/s")
		})
	}
}

// BenchmarkDedupState measures the memory the broker keeps per stored task
// for de-duplication (SPEC §7 Nats-Msg-Id, kept for stream.duplicates,
// default 2m): the live heap after a garbage collection, per task, with
// the whole envelope against the same tasks without Nats-Msg-Id, each on a
// fresh in-process broker. Each op is one request of 2,000 500-byte items;
// the run must end within the window (it does, in seconds), so every id is
// still held. live-B/task of "envelope" minus "no-msgid" is the id's price:
// times 2,000,000 tasks (the 1 GiB XML export) it is what the embedded
// process cannot give back until the window has passed.
//
//	go test -run '^$' -bench DedupState -benchtime 400x -count 3 ./gateway/
func BenchmarkDedupState(b *testing.B) {
	const items, size = 2000, 500
	for _, c := range []struct {
		name string
		mid  bool
	}{{"no-msgid", false}, {"envelope", true}} {
		b.Run(c.name, func(b *testing.B) {
			bs := inProcessBus(b)
			item := bytes.Repeat([]byte("x"), size)
			env := newEnvelope("erp")
			before := liveHeap()
			run := 0
			measure(b, func() {
				run++
				storeRequest(b, bs, env.run(run, items), items, "tasks.erp.erp", item, func(msg *nats.Msg) {
					if !c.mid {
						delete(msg.Header, nats.MsgIdHdr)
					}
				})
			})
			b.StopTimer()
			tasks := float64(items * b.N)
			b.ReportMetric(float64(liveHeap()-before)/tasks, "live-B/task")
			b.ReportMetric(tasks/b.Elapsed().Seconds(), "items/s")
		})
	}
}

// storeRequest publishes n items of run r as one Batch, each a copy of
// item on subject with its envelope changed by strip, and waits for them.
func storeRequest(b *testing.B, bs *bus.Bus, r envelopeRun, n int, subject string, item []byte, strip func(*nats.Msg)) {
	ctx := context.Background()
	batch := bs.NewBatch()
	for i := range n {
		msg := r.msg(subject, i, item)
		strip(msg)
		if err := batch.Add(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := batch.Wait(ctx); err != nil {
		b.Fatal(err)
	}
}

// liveHeap is the heap in use after a full collection.
func liveHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// BenchmarkEnvelopeOne1KiB is BenchmarkEnvelopeParts in run.sh's shape: 16
// senders at once, one 1 KiB task per request, on a fresh in-process broker
// each. "bare" is what the ideal gateway stores (a body, no headers); the
// difference of cpu-ns/op between "envelope" and "bare" is the broker's and
// the client's price of SPEC §7's headers and Nats-Msg-Id per request, which
// hookgate pays and the ideal gateway does not.
//
//	go test -run '^$' -bench EnvelopeOne1KiB -benchtime 100000x -count 3 ./gateway/
func BenchmarkEnvelopeOne1KiB(b *testing.B) {
	for _, c := range []struct {
		name     string
		envelope bool
	}{{"bare", false}, {"envelope", true}} {
		b.Run(c.name, func(b *testing.B) {
			bs := inProcessBus(b)
			body := githubBody()
			env := newEnvelope("gh")
			ctx := context.Background()
			var runs atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(8) // 16 senders on 2 CPUs
			start := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := env.run(int(runs.Add(1)), 1)
					msg := r.msg("tasks.gh.gh", 0, body)
					if !c.envelope {
						msg.Header = nil
					}
					batch := bs.NewBatch()
					if err := batch.Add(ctx, msg); err != nil {
						b.Error(err)
						return
					}
					if _, err := batch.Wait(ctx); err != nil {
						b.Error(err)
						return
					}
					batch.Release()
				}
			})
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		})
	}
}
