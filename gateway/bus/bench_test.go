package bus

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// benchModes are the embedded connections a gateway uses: loopback TCP (the
// default, listen 127.0.0.1) and in-process (listen "").
var benchModes = []struct{ name, listen string }{
	{"tcp", "127.0.0.1:0"},
	{"inprocess", ""},
}

// BenchmarkPublishOne1KiB is one 1 KiB task per Batch: the shape of a
// single-item webhook, and the bus's share of a request's cost.
func BenchmarkPublishOne1KiB(b *testing.B) {
	for _, mode := range benchModes {
		b.Run(mode.name, func(b *testing.B) {
			bus := openBus(b, embeddedConfig(b, mode.listen))
			msg := task("tasks.bench", "", 0, bytes.Repeat([]byte("x"), 1024))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := publishBatch(ctx, bus, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPublishOne1KiBBaseline is the same work without Batch: one
// PublishMsgAsync and a wait for its ack, the yardstick of issue 3.
func BenchmarkPublishOne1KiBBaseline(b *testing.B) {
	for _, mode := range benchModes {
		b.Run(mode.name, func(b *testing.B) {
			bus := openBus(b, embeddedConfig(b, mode.listen))
			js := bus.JetStream()
			msg := task("tasks.bench", "", 0, bytes.Repeat([]byte("x"), 1024))
			b.ReportAllocs()
			for b.Loop() {
				f, err := js.PublishMsgAsync(msg)
				if err != nil {
					b.Fatal(err)
				}
				select {
				case <-f.Ok():
				case err := <-f.Err():
					b.Fatal(err)
				}
			}
		})
	}
}

// items2000 is a request pre-split into 2,000 items of ~500 B.
func items2000() []*nats.Msg {
	msgs := make([]*nats.Msg, 2000)
	for i := range msgs {
		body := fmt.Appendf(nil, `{"sku":"SKU-%06d","qty":%d,"note":"%s"}`, i, i%17, bytes.Repeat([]byte("n"), 450))
		msgs[i] = task("tasks.bench", "", i, body)
	}
	return msgs
}

// BenchmarkPublish2000Items is one request of 2,000 pre-split ~500 B items.
func BenchmarkPublish2000Items(b *testing.B) {
	const items = 2000
	for _, mode := range benchModes {
		b.Run(mode.name, func(b *testing.B) {
			bus := openBus(b, embeddedConfig(b, mode.listen))
			msgs := items2000()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				res, err := publishBatch(ctx, bus, msgs...)
				if err != nil || res.Published != items {
					b.Fatalf("Wait = %+v, %v", res, err)
				}
			}
			b.ReportMetric(float64(items*b.N)/b.Elapsed().Seconds(), "items/s")
		})
	}
}

// BenchmarkPublishOne1KiBParallel is concurrent single-item requests, as
// many webhook senders at once produce them.
func BenchmarkPublishOne1KiBParallel(b *testing.B) {
	for _, mode := range benchModes {
		b.Run(mode.name, func(b *testing.B) {
			bus := openBus(b, embeddedConfig(b, mode.listen))
			ctx := context.Background()
			b.ReportAllocs()
			b.SetParallelism(16)
			b.RunParallel(func(pb *testing.PB) {
				msg := task("tasks.bench", "", 0, bytes.Repeat([]byte("x"), 1024))
				for pb.Next() {
					if _, err := publishBatch(ctx, bus, msg); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
		})
	}
}

// BenchmarkBatchOverhead alternates a Batch and the baseline (PublishMsgAsync
// for every message, then a wait on each future) in the same loop, so that
// noise from other work on the machine hits both alike, and reports their
// ratio (allocations are both together): 1 KiB alone, and 2,000 items of ~500 B.
func BenchmarkBatchOverhead(b *testing.B) {
	shapes := []struct {
		name string
		msgs func() []*nats.Msg
	}{
		{"1KiB", func() []*nats.Msg { return []*nats.Msg{task("tasks.bench", "", 0, bytes.Repeat([]byte("x"), 1024))} }},
		{"2000items", func() []*nats.Msg { return items2000() }},
	}
	for _, shape := range shapes {
		for _, mode := range benchModes {
			b.Run(shape.name+"/"+mode.name, func(b *testing.B) {
				bus := openBus(b, embeddedConfig(b, mode.listen))
				js := bus.JetStream()
				msgs := shape.msgs()
				futures := make([]jetstream.PubAckFuture, 0, len(msgs))
				ctx := context.Background()
				baseline := func() {
					futures = futures[:0]
					for _, m := range msgs {
						f, err := js.PublishMsgAsync(m)
						if err != nil {
							b.Fatal(err)
						}
						futures = append(futures, f)
					}
					for _, f := range futures {
						select {
						case <-f.Ok():
						case err := <-f.Err():
							b.Fatal(err)
						}
					}
				}
				batch := func() {
					if _, err := publishBatch(ctx, bus, msgs...); err != nil {
						b.Fatal(err)
					}
				}
				var batchT, baseT time.Duration
				b.ReportAllocs()
				for i := 0; b.Loop(); i++ {
					// Alternate which goes first, so neither gains from a warm start.
					first, second, firstT, secondT := baseline, batch, &baseT, &batchT
					if i%2 == 1 {
						first, second, firstT, secondT = batch, baseline, &batchT, &baseT
					}
					t0 := time.Now()
					first()
					t1 := time.Now()
					second()
					*firstT += t1.Sub(t0)
					*secondT += time.Since(t1)
				}
				b.ReportMetric(float64(batchT.Nanoseconds())/float64(b.N), "ns/batch")
				b.ReportMetric(float64(baseT.Nanoseconds())/float64(b.N), "ns/baseline")
				b.ReportMetric(float64(batchT)/float64(baseT), "batch/baseline")
			})
		}
	}
}

// BenchmarkBatchRelease is one 1 KiB task per Batch, the Batch dropped
// after Wait (the baseline, as before Release existed) or released for
// reuse: the difference is the Batch and its wake channel.
func BenchmarkBatchRelease(b *testing.B) {
	for _, release := range []bool{false, true} {
		name := "dropped"
		if release {
			name = "released"
		}
		b.Run(name, func(b *testing.B) {
			bus := openBus(b, embeddedConfig(b, ""))
			msg := task("tasks.bench", "", 0, bytes.Repeat([]byte("x"), 1024))
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				bt := bus.NewBatch()
				if err := bt.Add(ctx, msg); err != nil {
					b.Fatal(err)
				}
				if _, err := bt.Wait(ctx); err != nil {
					b.Fatal(err)
				}
				if release {
					bt.Release()
				}
			}
		})
	}
}
