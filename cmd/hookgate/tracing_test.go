package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"

	"github.com/hookgate/hookgate/configs"
)

// With an endpoint the span export is a part of serve: it stops after NATS,
// last but the signals, and its stop flushes the spans still queued: a
// request's spans reach the collector at shutdown although the batch
// interval (5s by default) has not passed.
func TestServeFlushesSpansAtShutdown(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var exports atomic.Int32
	otlp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/traces" {
			exports.Add(1)
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer otlp.Close()
	t.Setenv("OTEL_BSP_SCHEDULE_DELAY", "600000") // only the flush exports

	path := writeLifecycleConfig(t, "127.0.0.1:0", "127.0.0.1:0")
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text = append(text, []byte("tracing: {otlp_endpoint: \""+otlp.URL+"\"}\n")...)
	if err := os.WriteFile(path, text, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := configs.Load(path)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	warned := &stopWarnings{}
	log := zaptest.NewLogger(t, zaptest.Level(zapcore.InfoLevel), zaptest.WrapOptions(zap.Hooks(warned.hook)))
	s := newServing(path, cfg, log)

	ran, cancel := runServing(t, s, false)
	defer cancel()
	if order, want := stopOrder(s), []string{"gateway", "admin", "router", "attemptlog", "requestlog", "nats", "tracing", "signals", "memory"}; !slices.Equal(order, want) {
		t.Errorf("stop order %v, want %v", order, want)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.listen.String()+"/webhooks/orders", strings.NewReader(`{"items":[{"n":1}]}`))
	req.Header.Set("X-Auth", lifecycleSecret)
	resp, err := client.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /webhooks/orders: %v %v, want 200", resp, err)
	}
	resp.Body.Close()
	if n := exports.Load(); n != 0 {
		t.Fatalf("%d exports before shutdown; the batch interval is 10 minutes", n)
	}
	cancel()
	select {
	case err := <-ran:
		if err != nil {
			t.Errorf("serve returned %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s")
	}
	if exports.Load() == 0 {
		t.Error("no spans exported at shutdown")
	}
	if n := warned.count(); n > 0 {
		t.Errorf("%d parts did not stop cleanly", n)
	}
}
