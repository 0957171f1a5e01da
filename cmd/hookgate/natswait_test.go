package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/hookgate/hookgate/configs"
)

// A serve waiting for a NATS that is not there serves /readyz 503 and
// stops cleanly at the end of its context (SIGTERM): exit 0, nothing left
// running, the listeners' ports free.
func TestServeStopsCleanlyWhileWaitingForNATS(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	natsAddr := ln.Addr().String()
	ln.Close() // nothing listens there

	path := writeLifecycleConfig(t, "127.0.0.1:0", "127.0.0.1:0")
	cfg, err := configs.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.NATS.URL = "nats://" + natsAddr
	core, logs := observer.New(zapcore.InfoLevel)
	s := newServing(path, cfg, zap.New(core))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- s.run(ctx, serveSteps(false)) }()

	deadline := time.Now().Add(30 * time.Second)
	for logs.FilterMessage("nats not reachable; retrying").Len() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no two failed attempts logged within 30s:\n%v", logs.All())
		}
		time.Sleep(20 * time.Millisecond)
	}
	listening := logs.FilterMessage("listening").All()
	if len(listening) != 1 {
		t.Fatalf("want one listening line, got %d", len(listening))
	}
	addr := listening[0].ContextMap()["listen"].(string)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	resp, err := client.Get(fmt.Sprintf("http://%s/readyz", addr))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz %d while waiting for NATS, want 503", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-ran:
		if err != nil {
			t.Errorf("serve returned %v when stopped while waiting, want nil (exit 0)", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s")
	}
	for _, e := range logs.FilterMessage("part not stopped cleanly").All() {
		t.Errorf("part not stopped cleanly: %v", e.ContextMap())
	}
	var addrs []string
	for _, a := range []net.Addr{s.listen, s.admin} {
		if a != nil {
			addrs = append(addrs, a.String())
		}
	}
	if len(addrs) != 2 || strings.Contains(strings.Join(addrs, ""), ":0") {
		t.Fatalf("listeners %v, want both bound", addrs)
	}
	assertFree(t, addrs...)
}
