package bus

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/hookgate/hookgate/configs"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// embeddedConfig is an embedded bus on a fresh store; listen "" is in-process.
func embeddedConfig(t testing.TB, listen string) configs.NATS {
	return configs.NATS{Embedded: configs.Embedded{Listen: listen, StoreDir: t.TempDir()}}
}

// openBus opens a Bus that t.Cleanup closes.
func openBus(t testing.TB, cfg configs.NATS) *Bus {
	t.Helper()
	b, err := Open(testContext(t), cfg, testLogger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { closeBus(t, b) })
	return b
}

func closeBus(t testing.TB, b *Bus) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func testLogger(t testing.TB) *zap.Logger {
	if tt, ok := t.(*testing.T); ok {
		return zaptest.NewLogger(tt)
	}
	return zap.NewNop() // benchmarks: no per-line cost
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// task builds a message shaped like a gateway task (SPEC §7).
func task(subject, msgID string, i int, body []byte) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Header.Set("ce-specversion", "1.0")
	m.Header.Set("ce-id", fmt.Sprintf("req-1-incoming-%d", i))
	m.Header.Set("ce-type", "hookgate.test")
	m.Header.Set("ce-itemindex", fmt.Sprint(i))
	m.Header.Set("content-type", "application/json")
	if msgID != "" {
		m.Header.Set(nats.MsgIdHdr, msgID)
	}
	m.Data = body
	return m
}

// publish adds msgs to one batch and waits for it, 10s at the most.
func publish(t testing.TB, b *Bus, msgs ...*nats.Msg) (BatchResult, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return publishBatch(ctx, b, msgs...)
}

// publishBatch adds msgs to one batch and waits for it.
func publishBatch(ctx context.Context, b *Bus, msgs ...*nats.Msg) (BatchResult, error) {
	bt := b.NewBatch()
	for _, m := range msgs {
		if err := bt.Add(ctx, m); err != nil {
			return BatchResult{}, err
		}
	}
	return bt.Wait(ctx)
}

// eventually polls cond until it holds or 15s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
