package bus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/test/natstest"
)

func TestBatchCountsDuplicates(t *testing.T) {
	tests := []struct {
		name string
		ids  []string
		want BatchResult
	}{
		{"distinct ids are all stored", []string{"a/0", "a/1", "a/2"}, BatchResult{Published: 3}},
		{"same id twice is one duplicate", []string{"b/0", "b/0"}, BatchResult{Published: 2, Duplicates: 1}},
		{"a retried request is all duplicates", []string{"c/0", "c/1", "c/0", "c/1"}, BatchResult{Published: 4, Duplicates: 2}},
		{"no ids are never duplicates", []string{"", ""}, BatchResult{Published: 2}},
	}
	b := openBus(t, embeddedConfig(t, ""))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs := make([]*nats.Msg, len(tt.ids))
			for i, id := range tt.ids {
				msgs[i] = task("tasks.dup", id, i, []byte(`{"x":1}`))
			}
			got, err := publish(t, b, msgs...)
			if err != nil {
				t.Fatalf("publish: %v", err)
			}
			if got != tt.want {
				t.Errorf("result = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestEmptyBatchWaitsForNothing(t *testing.T) {
	b := openBus(t, embeddedConfig(t, ""))
	res, err := b.NewBatch().Wait(context.Background())
	if err != nil || res != (BatchResult{}) {
		t.Fatalf("Wait = %+v, %v; want zero result, nil", res, err)
	}
}

func TestBatchFailuresWrapErrUnavailable(t *testing.T) {
	tests := []struct {
		name           string
		publishTimeout time.Duration
		ctxTimeout     time.Duration
		subject        string
		silentReceiver bool // a core subscriber that never acks
		wantErr        error
	}{
		{"subject without a stream: no responders", 5 * time.Second, 5 * time.Second, "other.nostream", false, jetstream.ErrNoStreamResponse},
		{"nobody acks within publish_timeout", 300 * time.Millisecond, 5 * time.Second, "other.silent", true, jetstream.ErrAsyncPublishTimeout},
		{"context ends before the ack", 5 * time.Second, 300 * time.Millisecond, "other.silent", true, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := embeddedConfig(t, "")
			cfg.PublishTimeout = tt.publishTimeout
			b := openBus(t, cfg)
			if tt.silentReceiver {
				sub, err := b.Conn().SubscribeSync(tt.subject)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = sub.Unsubscribe() })
			}
			ctx, cancel := context.WithTimeout(context.Background(), tt.ctxTimeout)
			defer cancel()
			// The error names the bound that ended Wait: the other one, or
			// no bound at all, would give another error.
			start := time.Now()
			bt := b.NewBatch()
			if err := bt.Add(ctx, task("tasks.ok", "", 0, []byte(`{}`))); err != nil {
				t.Fatalf("Add to a stream subject: %v", err)
			}
			if err := bt.Add(ctx, task(tt.subject, "", 1, []byte(`{}`))); err != nil {
				t.Fatalf("Add: %v", err)
			}
			res, err := bt.Wait(ctx)
			t.Logf("Wait after %s: %v", time.Since(start), err)
			if !errors.Is(err, ErrUnavailable) || !errors.Is(err, tt.wantErr) {
				t.Fatalf("Wait error = %v, want one wrapping ErrUnavailable and %v", err, tt.wantErr)
			}
			if res.Published != 1 {
				t.Errorf("Published = %d, want 1 (the task on the stream subject)", res.Published)
			}
		})
	}
}

func TestBatchAddTooLargeIsNotUnavailable(t *testing.T) {
	cfg := embeddedConfig(t, "")
	cfg.Embedded.MaxPayload = 1024
	b := openBus(t, cfg)
	bt := b.NewBatch()
	err := bt.Add(context.Background(), task("tasks.big", "", 0, make([]byte, 2048)))
	if !errors.Is(err, nats.ErrMaxPayload) || errors.Is(err, ErrUnavailable) {
		t.Fatalf("Add = %v, want nats.ErrMaxPayload and not ErrUnavailable (a retry cannot help)", err)
	}
	if _, werr := bt.Wait(context.Background()); !errors.Is(werr, nats.ErrMaxPayload) {
		t.Errorf("Wait = %v, want the failed Add reported again", werr)
	}
}

func TestPublishWhenServerGoneFailsFast(t *testing.T) {
	s := natstest.Run(t, server.Options{})
	b := openBus(t, configs.NATS{URL: s.ClientURL()})
	s.Shutdown()
	s.WaitForShutdown()
	eventually(t, "the bus to notice the server is gone", func() bool { return !b.Ready() })

	ctx := testContext(t)
	bt := b.NewBatch()
	addErr := bt.Add(ctx, task("tasks.gone", "", 0, []byte(`{}`)))
	res, err := bt.Wait(ctx)
	if !errors.Is(addErr, ErrUnavailable) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Add = %v, Wait = %+v, %v; want both errors wrapping ErrUnavailable", addErr, res, err)
	}
	// Failing fast: refused as not connected, not ended by a timeout.
	for _, timeout := range []error{context.DeadlineExceeded, jetstream.ErrAsyncPublishTimeout} {
		if errors.Is(addErr, timeout) || errors.Is(err, timeout) {
			t.Errorf("Add = %v, Wait = %v; want the publish refused at once, not ended by %v", addErr, err, timeout)
		}
	}
}

func TestReconnectAfterServerRestart(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	store := t.TempDir()
	s := natstest.Run(t, server.Options{StoreDir: store})
	port := s.Addr().(*net.TCPAddr).Port
	b, err := Open(testContext(t), configs.NATS{URL: s.ClientURL()}, zap.New(core))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { closeBus(t, b) })
	if _, err := publish(t, b, task("tasks.restart", "", 0, []byte(`{"n":0}`))); err != nil {
		t.Fatalf("publish before restart: %v", err)
	}

	s.Shutdown()
	s.WaitForShutdown()
	eventually(t, "disconnect", func() bool { return !b.Ready() })
	natstest.Run(t, server.Options{StoreDir: store, Port: port})
	eventually(t, "reconnect", b.Ready)

	res, err := publish(t, b, task("tasks.restart", "", 1, []byte(`{"n":1}`)))
	if err != nil || res.Published != 1 {
		t.Fatalf("publish after restart = %+v, %v; want 1 published", res, err)
	}
	st, err := b.JetStream().Stream(testContext(t), "HOOKGATE_TASKS")
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	if n := st.CachedInfo().State.Msgs; n != 2 {
		t.Errorf("stream holds %d messages after restart, want 2 (one from before)", n)
	}
	for _, msg := range []string{"nats disconnected; reconnecting", "nats reconnected"} {
		eventually(t, "log "+msg, func() bool { return logs.FilterMessage(msg).Len() > 0 })
	}
}

func TestWaitEndsWhenServerGoesAwayMidFlight(t *testing.T) {
	s := natstest.Run(t, server.Options{})
	b := openBus(t, configs.NATS{URL: s.ClientURL()})
	// A subscriber that never acks keeps the publish in flight.
	sub, err := b.Conn().SubscribeSync("other.silent")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	ctx := testContext(t)
	bt := b.NewBatch()
	if err := bt.Add(ctx, task("other.silent", "", 0, []byte(`{}`))); err != nil {
		t.Fatalf("Add: %v", err)
	}
	if _, err := sub.NextMsg(10 * time.Second); err != nil {
		t.Fatalf("message never reached the server: %v", err)
	}
	s.Shutdown()
	_, err = bt.Wait(ctx)
	if !errors.Is(err, ErrUnavailable) || !errors.Is(err, nats.ErrDisconnected) {
		t.Fatalf("Wait = %v, want ErrUnavailable wrapping nats.ErrDisconnected", err)
	}
	if ctx.Err() != nil {
		t.Error("Wait ran into its deadline; want it to end on the disconnect")
	}
}

func TestConcurrentBatchesEachCountTheirOwnAcks(t *testing.T) {
	b := openBus(t, embeddedConfig(t, ""))
	const workers, batches, size = 8, 25, 10
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for i := range batches {
				msgs := make([]*nats.Msg, size)
				for j := range msgs {
					// Every third task repeats an id, so each batch has a known share of duplicates.
					msgs[j] = task("tasks.concurrent", fmt.Sprintf("w%d/b%d/%d", w, i, j/3*3), j, []byte(`{}`))
				}
				res, err := publish(t, b, msgs...)
				if want := (BatchResult{Published: size, Duplicates: 6}); err != nil || res != want {
					errs <- fmt.Errorf("worker %d batch %d: %+v, %v; want %+v", w, i, res, err, want)
					return
				}
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

func TestAddedMessageMayBeReusedAtOnce(t *testing.T) {
	b := openBus(t, embeddedConfig(t, ""))
	ctx := testContext(t)
	bt := b.NewBatch()
	msg := task("tasks.reuse", "", 0, nil)
	for i := range 5 {
		// The same *nats.Msg, rewritten for every task as the gateway does.
		msg.Header.Set(nats.MsgIdHdr, fmt.Sprintf("reuse/%d", i))
		msg.Data = fmt.Appendf(nil, `{"n":%d}`, i)
		if err := bt.Add(ctx, msg); err != nil {
			t.Fatalf("Add %d: %v", i, err)
		}
	}
	if msg.Reply != "" {
		t.Errorf("Add left Reply = %q on the caller's message", msg.Reply)
	}
	res, err := bt.Wait(ctx)
	if err != nil || res != (BatchResult{Published: 5}) {
		t.Fatalf("Wait = %+v, %v; want 5 published, no duplicates", res, err)
	}
	cons, err := b.JetStream().OrderedConsumer(ctx, "HOOKGATE_TASKS", jetstream.OrderedConsumerConfig{FilterSubjects: []string{"tasks.reuse"}})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.Fetch(5, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for m := range batch.Messages() {
		if want := fmt.Sprintf(`{"n":%d}`, i); string(m.Data()) != want || m.Headers().Get(nats.MsgIdHdr) != fmt.Sprintf("reuse/%d", i) {
			t.Errorf("task %d = %s %v, want %s with id reuse/%d", i, m.Data(), m.Headers(), want, i)
		}
		i++
	}
	if i != 5 {
		t.Errorf("stored %d tasks, want 5", i)
	}
}

func TestSetPublishTimeoutAppliesToTasksInFlight(t *testing.T) {
	cfg := embeddedConfig(t, "")
	cfg.PublishTimeout = time.Minute
	b := openBus(t, cfg)
	sub, err := b.Conn().SubscribeSync("other.silent")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	bt := b.NewBatch()
	if err := bt.Add(testContext(t), task("other.silent", "", 0, []byte(`{}`))); err != nil {
		t.Fatal(err)
	}
	b.SetPublishTimeout(200 * time.Millisecond) // as a reload does
	// Under the old minute, Wait would end on its context (20s) instead.
	_, err = bt.Wait(testContext(t))
	if !errors.Is(err, jetstream.ErrAsyncPublishTimeout) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Wait = %v, want ErrUnavailable wrapping ErrAsyncPublishTimeout", err)
	}
}

func TestReleasedBatchesStartEmpty(t *testing.T) {
	b := openBus(t, embeddedConfig(t, ""))
	ctx := testContext(t)
	for i := range 20 {
		bt := b.NewBatch()
		for j := range 2 {
			if err := bt.Add(ctx, task("tasks.reuse", fmt.Sprintf("r/%d/%d", i, j), j, []byte(`{"x":1}`))); err != nil {
				t.Fatal(err)
			}
		}
		res, err := bt.Wait(ctx)
		if err != nil || res != (BatchResult{Published: 2}) {
			t.Fatalf("batch %d: Wait = %+v, %v; want 2 published (nothing left from an earlier batch)", i, res, err)
		}
		bt.Release()
	}
}

func TestBatchAwaitingAcksIsNotReset(t *testing.T) {
	b := openBus(t, embeddedConfig(t, ""))
	bt := b.NewBatch()
	bt.added = 1 // a task whose ack is still to come: it will resolve on bt
	bt.Release()
	if bt.bus != b || bt.added != 1 {
		t.Fatalf("Release reset a batch with a task in flight: bus %p, added %d", bt.bus, bt.added)
	}
}
