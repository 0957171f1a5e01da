package bus

import (
	"bytes"
	"context"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

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

// The embedded server's log stream persists in batches, unless the operator
// asked for every write on disk; tasks and dead letters never do.
func TestOnlyTheLogOfASingleNodePersistsInBatches(t *testing.T) {
	for _, sync := range []string{"", configs.SyncInterval, configs.SyncAlways} {
		t.Run("sync="+sync, func(t *testing.T) {
			cfg := embeddedConfig(t, "")
			cfg.Embedded.Sync = sync
			b := openBus(t, cfg)
			for _, name := range []string{"HOOKGATE_TASKS", DLQStream, LogStream} {
				st, err := b.JetStream().Stream(testContext(t), name)
				if err != nil {
					t.Fatalf("stream %s: %v", name, err)
				}
				want := jetstream.DefaultPersistMode
				if name == LogStream && sync != configs.SyncAlways {
					want = jetstream.AsyncPersistMode
				}
				if got := st.CachedInfo().Config.PersistMode; got != want {
					t.Errorf("stream %s persist mode %v, want %v", name, got, want)
				}
			}
		})
	}
	// With nats.url the operator's servers decide how streams reach the
	// disk, and nats-server refuses async persistence on replicated ones.
	for _, replicas := range []int{1, 3} {
		external := configs.NATS{URL: "nats://127.0.0.1:4222", Stream: configs.Stream{Replicas: replicas}}
		if got := streamConfigs(external)[2].PersistMode; got != jetstream.DefaultPersistMode {
			t.Errorf("log stream on nats.url with replicas %d: persist mode %v, want default", replicas, got)
		}
	}
}

// nats-server cannot change a stream's persist mode, so a log stream keeps
// the mode it was created with when sync changes, or when it was created
// by a hookgate that did not batch: the process starts, and the log works.
func TestAnExistingLogStreamKeepsItsPersistMode(t *testing.T) {
	for _, tt := range []struct {
		first, then string
		want        jetstream.PersistModeType
	}{
		{configs.SyncAlways, configs.SyncInterval, jetstream.DefaultPersistMode},
		{configs.SyncInterval, configs.SyncAlways, jetstream.AsyncPersistMode},
	} {
		t.Run(tt.first+"-then-"+tt.then, func(t *testing.T) {
			cfg := embeddedConfig(t, "")
			for _, sync := range []string{tt.first, tt.then} {
				cfg.Embedded.Sync = sync
				b, err := Open(testContext(t), cfg, testLogger(t))
				if err != nil {
					t.Fatalf("start with sync %s: %v", sync, err)
				}
				st, err := b.JetStream().Stream(testContext(t), LogStream)
				if err != nil {
					t.Fatal(err)
				}
				got := st.CachedInfo().Config.PersistMode
				w := NewLogWriter(b.JetStream(), 0, nil)
				stored := w.Write(AttemptLogSubject("r", "o"), []byte(`{}`)) && w.Close(testContext(t)) == nil && w.Failed() == 0
				closeBus(t, b)
				if got != tt.want {
					t.Errorf("with sync %s: log persist mode %v, want %v", sync, got, tt.want)
				}
				if !stored {
					t.Errorf("with sync %s: a log entry was not stored", sync)
				}
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
