package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
)

// Secrets of lifecycleConfig: no error of serve may quote them.
const (
	lifecycleToken  = "lifecycle-admin-token"
	lifecycleSecret = "lifecycle-header-secret"
)

// lifecycleConfig runs every part of serve: embedded NATS on a port of its
// own, the admin listener, a route (the router runs a consumer).
const lifecycleConfig = `
server: {listen: "LISTEN", shutdown_timeout: 10s}
admin: {listen: "ADMIN", token: ` + lifecycleToken + `}
log: {level: info, format: json}
nats:
  embedded: {listen: "127.0.0.1:0", store_dir: "STORE"}
  publish_timeout: 2s
incoming:
  - {name: orders, parser: json, pattern_to_items: items}
webhooks:
  - name: Orders
    identifier: orders
    incoming: orders
    pre_processors:
      - header_secret: {header: X-Auth, secret: ` + lifecycleSecret + `}
outgoing:
  - {name: erp, url: "http://127.0.0.1:9/orders", allow_private_networks: true}
routes:
  - {name: to-erp, incoming: orders, outgoing: [erp]}
`

// writeLifecycleConfig writes lifecycleConfig with the given listen
// addresses into a directory of its own and returns its path.
func writeLifecycleConfig(t *testing.T, listen, admin string) string {
	t.Helper()
	dir := t.TempDir()
	text := strings.NewReplacer("LISTEN", listen, "ADMIN", admin, "STORE", filepath.Join(dir, "nats")).Replace(lifecycleConfig)
	path := filepath.Join(dir, "config", "hookgate.yaml")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// newTestServing is a serving of a fresh config, logging to t, that
// counts the parts that did not stop cleanly.
func newTestServing(t *testing.T) (*serving, *stopWarnings) {
	t.Helper()
	path := writeLifecycleConfig(t, "127.0.0.1:0", "127.0.0.1:0")
	cfg, err := configs.Load(path)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	warned := &stopWarnings{}
	log := zaptest.NewLogger(t, zaptest.Level(zapcore.InfoLevel), zaptest.WrapOptions(zap.Hooks(warned.hook)))
	return newServing(path, cfg, log), warned
}

// stopWarnings records the "part not stopped cleanly" warnings.
type stopWarnings struct {
	mu  sync.Mutex
	got []string
}

func (w *stopWarnings) hook(e zapcore.Entry) error {
	if e.Message == "part not stopped cleanly" {
		w.mu.Lock()
		w.got = append(w.got, e.Message)
		w.mu.Unlock()
	}
	return nil
}

func (w *stopWarnings) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.got)
}

// assertStopped checks that nothing s started still holds what it took:
// its listeners' ports can be bound again and a new embedded server opens
// the same store at once. (nats-server takes no lock on its store_dir, so
// the goroutine check of the callers is what proves the old server gone;
// this one proves its store usable.)
func assertStopped(t *testing.T, s *serving, warned *stopWarnings) {
	t.Helper()
	if n := warned.count(); n > 0 {
		t.Errorf("%d parts did not stop cleanly (see the log)", n)
	}
	var addrs []string
	for _, a := range []net.Addr{s.listen, s.admin} {
		if a != nil {
			addrs = append(addrs, a.String())
		}
	}
	if s.bus != nil {
		u, err := url.Parse(s.bus.ClientURL())
		if err != nil || u.Host == "" {
			t.Fatalf("embedded nats client URL %q: %v", s.bus.ClientURL(), err)
		}
		addrs = append(addrs, u.Host)
	}
	assertFree(t, addrs...)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := bus.Open(ctx, s.cfg.NATS, zaptest.NewLogger(t, zaptest.Level(zapcore.WarnLevel)))
	if err != nil {
		t.Fatalf("a new embedded server on the same store_dir: %v", err)
	}
	if err := b.Close(ctx); err != nil {
		t.Errorf("close the new embedded server: %v", err)
	}
}

// assertFree binds each address and lets it go.
func assertFree(t *testing.T, addrs ...string) {
	t.Helper()
	for _, a := range addrs {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			t.Errorf("%s is still bound: %v", a, err)
			continue
		}
		ln.Close()
	}
}

// failAfter is steps with steps[i] failing once it has started: what it
// started is running, so it must be stopped with everything before it.
func failAfter(steps []step, i int, err error) []step {
	steps = slices.Clone(steps)
	start := steps[i].start
	steps[i].start = func(s *serving) error {
		if serr := start(s); serr != nil {
			return serr
		}
		return err
	}
	return steps
}

// Each step of serve fails in turn, after starting its part: serve returns
// the failure, masked, and leaves nothing running — no goroutine, no
// listener, the store free (STYLE "Lifecycles unwind").
func TestServeUnwindsWhenAStepFails(t *testing.T) {
	for i, st := range serveSteps(true) {
		t.Run(st.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			s, warned := newTestServing(t)
			// A step's error may quote a configured secret (a validator's,
			// the router's): serve masks it.
			injected := errors.New("injected failure at " + st.name + " quoting " + lifecycleToken + " and " + lifecycleSecret)
			err := s.run(context.Background(), failAfter(serveSteps(true), i, injected))
			if err == nil || !strings.Contains(err.Error(), "injected failure at "+st.name) {
				t.Fatalf("serve returned %v, want the injected failure", err)
			}
			if strings.Contains(err.Error(), lifecycleToken) || strings.Contains(err.Error(), lifecycleSecret) || !strings.Contains(err.Error(), "***") {
				t.Errorf("serve's error is not masked: %v", err)
			}
			assertStopped(t, s, warned)
		})
	}
}

// whenStarted wraps steps so that the returned channel closes once all have
// started.
func whenStarted(steps []step) ([]step, <-chan struct{}) {
	steps = slices.Clone(steps)
	done := make(chan struct{})
	last := &steps[len(steps)-1]
	start := last.start
	last.start = func(s *serving) error {
		err := start(s)
		if err == nil {
			close(done)
		}
		return err
	}
	return steps, done
}

// runServing runs s until every serve step has started; it returns the
// channel serve's result comes on and the cancel of its context.
func runServing(t *testing.T, s *serving, watch bool) (<-chan error, context.CancelFunc) {
	t.Helper()
	steps, up := whenStarted(serveSteps(watch))
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- s.run(ctx, steps) }()
	select {
	case <-up:
	case err := <-ran:
		cancel()
		t.Fatalf("serve did not start: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("serve did not start within 30s")
	}
	return ran, cancel
}

// stopOrder names s's started parts in the order they stop.
func stopOrder(s *serving) []string {
	var order []string
	for i := len(s.parts.parts) - 1; i >= 0; i-- {
		order = append(order, s.parts.parts[i].name)
	}
	return order
}

// After a full start, the end of serve's context (what SIGTERM does) or a
// real SIGTERM stops everything, in today's order, and serve returns nil
// (exit 0).
func TestServeStopsEverythingAtTheEnd(t *testing.T) {
	for _, how := range []string{"context ends", "SIGTERM"} {
		t.Run(how, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			s, warned := newTestServing(t)
			ran, cancel := runServing(t, s, true)
			defer cancel()

			// SPEC §8's graceful shutdown, last started first.
			order := stopOrder(s)
			want := []string{"watch", "gateway", "admin", "router", "attemptlog", "requestlog", "nats", "signals", "memory"}
			if !slices.Equal(order, want) {
				t.Errorf("stop order %v, want %v", order, want)
			}
			// Every part works: a webhook is accepted, the admin API answers.
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
			req, _ := http.NewRequest(http.MethodPost, "http://"+s.listen.String()+"/webhooks/orders", strings.NewReader(`{"items":[{"n":1}]}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Auth", lifecycleSecret)
			if resp, err := client.Do(req); err != nil || resp.StatusCode/100 != 2 {
				t.Errorf("POST /webhooks/orders: %v %v, want 2xx", resp, err)
			} else {
				resp.Body.Close()
			}
			req, _ = http.NewRequest(http.MethodGet, "http://"+s.admin.String()+"/api/v1/routes", nil)
			req.Header.Set("Authorization", "Bearer "+lifecycleToken)
			if resp, err := client.Do(req); err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("GET admin /api/v1/routes: %v %v, want 200", resp, err)
			} else {
				resp.Body.Close()
			}

			if how == "SIGTERM" {
				// serve catches it (the signals step ran): the test process lives on.
				if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
			} else {
				cancel()
			}
			select {
			case err := <-ran:
				if err != nil {
					t.Errorf("serve returned %v after %s, want nil (exit 0)", err, how)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("serve did not stop within 30s of %s", how)
			}
			assertStopped(t, s, warned)
		})
	}
}

// A real failure, through the command itself: the public or the admin
// address is taken. Before the lifecycle, serve returned there without
// closing NATS, stopping the router or the log writers.
func TestServeCommandUnwindsWhenAnAddressIsTaken(t *testing.T) {
	for _, taken := range []string{"server.listen", "admin.listen"} {
		t.Run(taken, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			listen, admin := "127.0.0.1:0", "127.0.0.1:0"
			if taken == "server.listen" {
				listen = ln.Addr().String()
			} else {
				admin = ln.Addr().String()
			}
			path := writeLifecycleConfig(t, listen, admin)
			var stderr bytes.Buffer
			err = cmdServe([]string{"-c", path, "--watch"}, &stderr)
			if err == nil || !strings.Contains(err.Error(), taken) {
				t.Fatalf("serve returned %v, want an error naming %s\n%s", err, taken, stderr.String())
			}
			if strings.Contains(stderr.String(), "part not stopped cleanly") {
				t.Errorf("a part did not stop cleanly:\n%s", stderr.String())
			}
			// The store is free for the next start.
			cfg, err := configs.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			b, err := bus.Open(ctx, cfg.NATS, nil)
			if err != nil {
				t.Fatalf("a new embedded server on the same store_dir: %v", err)
			}
			if err := b.Close(ctx); err != nil {
				t.Errorf("close the new embedded server: %v", err)
			}
		})
	}
}
