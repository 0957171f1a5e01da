package gateway

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"
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
			item := make([]byte, size)
			for i := range item {
				item[i] = 'x'
			}
			env := newEnvelope("erp")
			ctx := context.Background()
			run := 0
			measure(b, func() {
				run++
				r := env.run(run, items)
				batch := bs.NewBatch()
				for i := range items {
					msg := r.msg("tasks.baseline", i, item)
					switch {
					case !c.headers && !c.mid:
						msg.Header = nil
					case !c.headers:
						msg.Header = nats.Header{nats.MsgIdHdr: msg.Header[nats.MsgIdHdr]}
					case !c.mid:
						delete(msg.Header, nats.MsgIdHdr)
					}
					if err := batch.Add(ctx, msg); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := batch.Wait(ctx); err != nil {
					b.Fatal(err)
				}
			})
			b.ReportMetric(float64(items*b.N)/b.Elapsed().Seconds(), "items/s")
		})
	}
}
