package parsers

import (
	"bytes"
	"context"
	"testing"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/test/natstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// publishAll publishes the items asynchronously and waits for every ack, as
// the gateway does.
func publishAll(b *testing.B, js jetstream.JetStream, items [][]byte) {
	futures := make([]jetstream.PubAckFuture, 0, len(items))
	for _, it := range items {
		f, err := js.PublishMsgAsync(&nats.Msg{Subject: "tasks.bench", Data: it})
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

// BenchmarkPublishXML2000Orders compares publishing 2,000 pre-split items
// with splitting the 1 MiB XML and publishing its items, on a real embedded
// JetStream with file storage. The ratio of the two is the cost of the split.
func BenchmarkPublishXML2000Orders(b *testing.B) {
	srv := natstest.Start(b)
	nc, _ := natstest.Connect(b, srv)
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		b.Fatal(err)
	}
	stream, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "BENCH", Subjects: []string{"tasks.>"}, Storage: jetstream.FileStorage})
	if err != nil {
		b.Fatal(err)
	}
	purge := func(b *testing.B) {
		b.StopTimer()
		if err := stream.Purge(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	body := ordersXMLBody(2000)
	s, err := New(configs.Incoming{Name: "b", Parser: "xml", PatternToItems: "Orders.Order"})
	if err != nil {
		b.Fatal(err)
	}
	var pre [][]byte
	if err := s.SplitBytes(context.Background(), "application/xml", body, func(it Item) error { pre = append(pre, it.Data); return nil }); err != nil {
		b.Fatal(err)
	}
	b.Run("pre-split", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if i%20 == 0 {
				purge(b)
			}
			publishAll(b, js, pre)
		}
		b.ReportMetric(float64(len(pre)*b.N)/b.Elapsed().Seconds(), "items/s")
	})
	b.Run("split+publish", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for i := 0; i < b.N; i++ {
			if i%20 == 0 {
				purge(b)
			}
			var items [][]byte
			err := s.Split(context.Background(), "application/xml", bytes.NewReader(body), func(it Item) error { items = append(items, it.Data); return nil })
			if err != nil {
				b.Fatal(err)
			}
			publishAll(b, js, items)
		}
		b.ReportMetric(float64(2000*b.N)/b.Elapsed().Seconds(), "items/s")
	})
	b.Run("split+publish incremental", func(b *testing.B) {
		inc, err := New(configs.Incoming{Name: "b", Parser: "xml", ReadMethod: "incremental", PatternToItems: "Orders.Order"})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		futures := make([]jetstream.PubAckFuture, 0, 2000)
		for i := 0; i < b.N; i++ {
			if i%20 == 0 {
				purge(b)
			}
			futures = futures[:0]
			err := inc.Split(context.Background(), "application/xml", bytes.NewReader(body), func(it Item) error {
				f, err := js.PublishMsgAsync(&nats.Msg{Subject: "tasks.bench", Data: it.Data})
				futures = append(futures, f)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
			for _, f := range futures {
				select {
				case <-f.Ok():
				case err := <-f.Err():
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(2000*b.N)/b.Elapsed().Seconds(), "items/s")
	})
}
