package bus

import (
	"bytes"
	"context"
	"testing"

	"github.com/hookgate/hookgate/configs"
)

// nats.embedded.sync reaches the running server's JetStream: always fsyncs
// every write before its ack, the default leaves it to the interval.
func TestEmbeddedSyncReachesJetStream(t *testing.T) {
	for _, sync := range []string{"", configs.SyncInterval, configs.SyncAlways} {
		t.Run("sync="+sync, func(t *testing.T) {
			cfg := embeddedConfig(t, "")
			cfg.Embedded.Sync = sync
			b := openBus(t, cfg)
			js := b.srv.JetStreamConfig()
			if js == nil {
				t.Fatal("the embedded server runs without JetStream")
			}
			if want := sync == configs.SyncAlways; js.SyncAlways != want {
				t.Errorf("JetStream sync_always %v, want %v", js.SyncAlways, want)
			}
			if res, err := publishBatch(testContext(t), b, task("tasks.sync", "", 0, []byte(`{}`))); err != nil || res.Published != 1 {
				t.Fatalf("publish = %+v, %v; want 1 published", res, err)
			}
		})
	}
}

// BenchmarkSyncPublish is the cost of nats.embedded.sync: always against
// the default, in one run, on the file store: one 1 KiB task per request
// (a request waits for its ack, so each pays an fsync), alone and with 16
// requests at once (the server fsyncs each write; concurrent requests
// share none of them).
func BenchmarkSyncPublish(b *testing.B) {
	for _, sync := range []string{configs.SyncInterval, configs.SyncAlways} {
		for _, parallel := range []bool{false, true} {
			name := "sync=" + sync + "/serial"
			if parallel {
				name = "sync=" + sync + "/parallel16"
			}
			b.Run(name, func(b *testing.B) {
				cfg := embeddedConfig(b, "")
				cfg.Embedded.Sync = sync
				bus := openBus(b, cfg)
				msg := task("tasks.bench", "", 0, bytes.Repeat([]byte("x"), 1024))
				ctx := context.Background()
				if !parallel {
					for b.Loop() {
						if _, err := publishBatch(ctx, bus, msg); err != nil {
							b.Fatal(err)
						}
					}
					return
				}
				b.SetParallelism(8) // 16 goroutines on 2 cores
				b.RunParallel(func(pb *testing.PB) {
					msg := task("tasks.bench", "", 0, bytes.Repeat([]byte("x"), 1024)) // Add sets its reply
					for pb.Next() {
						if _, err := publishBatch(ctx, bus, msg); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
