package router

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/hookgate/hookgate/configs"
)

func TestStopFinishesDeliveriesUnderWay(t *testing.T) {
	js := startJS(t)
	rc, release := heldReceiver(t)
	r := startRouter(t, testConfig(configs.Route{}, testOutgoing("erp", rc.URL)), js)
	publishTask(t, js, "tasks.orders", "req-orders-0", `{}`)
	rc.wait(t, 1)

	stopped := make(chan error, 1)
	go func() { stopped <- r.Stop(context.Background()) }()
	if err := afterRelease(t, "Stop", stopped, release); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	settled(t, js, "r", "erp") // acked: not delivered again
	if n := rc.count(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestStopPastItsDeadlineHandsTheTaskBack(t *testing.T) {
	js := startJS(t)
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	rc := newReceiver(t, func(n int, a arrival, w http.ResponseWriter) {
		if n == 0 {
			select {
			case <-block:
			case <-time.After(5 * time.Second):
			}
		}
	})
	// AckWait is the timeout plus 15s: left to it, the task would not come
	// back within rc.wait's 20s.
	out := testOutgoing("erp", rc.URL)
	out.Timeout = time.Minute
	cfg := testConfig(configs.Route{}, out)
	r := startRouter(t, cfg, js)
	publishTask(t, js, "tasks.orders", "req-orders-0", `{}`)
	rc.wait(t, 1)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := r.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop = %v, want the context's deadline", err)
	}
	// Handed back with Nak, not left to AckWait (75s): a new Router gets it.
	startRouter(t, cfg, js)
	got := rc.wait(t, 2)
	if got[1].header.Get("Idempotency-Key") != "req-orders-0" {
		t.Errorf("second request for %q", got[1].header.Get("Idempotency-Key"))
	}
}

func TestStartTwiceIsRefused(t *testing.T) {
	js := startJS(t)
	r := startRouter(t, testConfig(configs.Route{}, testOutgoing("erp", "http://127.0.0.1:1/")), js)
	if err := r.Start(context.Background()); err == nil {
		t.Error("second Start succeeded")
	}
}

func TestStartNeedsTheStream(t *testing.T) {
	js := startJS(t)
	cfg := testConfig(configs.Route{}, testOutgoing("erp", "http://127.0.0.1:1/"))
	cfg.NATS.Stream.Name = "MISSING"
	r, err := New(cfg, js, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.Start(ctx); err == nil {
		t.Error("Start succeeded without the task stream")
	}
	if err := r.Stop(ctx); err != nil {
		t.Errorf("Stop after a failed Start: %v", err)
	}
}

func TestSlowDeliveryKeptAliveBeyondAckWait(t *testing.T) {
	js := startJS(t)
	rc := newReceiver(t, func(n int, _ arrival, w http.ResponseWriter) {
		if n == 0 {
			time.Sleep(2500 * time.Millisecond) // past AckWait below
		}
	})
	out := testOutgoing("erp", rc.URL)
	out.Timeout = 5 * time.Second
	r, err := New(testConfig(configs.Route{}, out), js, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	// Shrink AckWait so the test is short; InProgress must hold the task.
	r.pairs[0].consumer.AckWait = time.Second
	r.heartbeatAt = func(time.Duration) time.Duration { return 300 * time.Millisecond }
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopRouter(t, r) })
	publishTask(t, js, "tasks.orders", "req-orders-0", `{}`)
	rc.wait(t, 1)
	settled(t, js, "r", "erp")
	if n := rc.count(); n != 1 {
		t.Errorf("%d requests; the task was redelivered while its delivery ran", n)
	}
}
