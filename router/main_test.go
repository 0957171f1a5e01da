package router

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
	"github.com/hookgate/hookgate/test/natstest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	testStream = "TASKS"
	dlqStream  = "HOOKGATE_DLQ"
)

// startJS runs a real JetStream with the task and dead-letter streams.
func startJS(t testing.TB) jetstream.JetStream {
	t.Helper()
	s := natstest.Start(t)
	_, js := natstest.Connect(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for name, subj := range map[string][]string{testStream: {"tasks.>", bus.ReplaySubjects}, dlqStream: {"dlq.>"}} {
		if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: subj, Storage: jetstream.FileStorage}); err != nil {
			t.Fatalf("create stream %s: %v", name, err)
		}
	}
	return js
}

// startJSWithLog is startJS with the log stream of SPEC §9 too, where the
// router writes its delivery attempts.
func startJSWithLog(t testing.TB) jetstream.JetStream {
	t.Helper()
	js := startJS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: bus.LogStream, Subjects: []string{"log.>"}}); err != nil {
		t.Fatalf("create stream %s: %v", bus.LogStream, err)
	}
	return js
}

// testConfig is one incoming "orders", one route "r" to the given outgoing.
func testConfig(rt configs.Route, outs ...configs.Outgoing) *configs.Config {
	cfg := &configs.Config{
		NATS:     configs.NATS{Stream: configs.Stream{Name: testStream}},
		Incoming: []configs.Incoming{{Name: "orders", Subject: "tasks.orders"}},
		Outgoing: outs,
	}
	if rt.Name == "" {
		rt.Name = "r"
	}
	if rt.Incoming == "" {
		rt.Incoming = "orders"
	}
	if rt.Outgoing == nil {
		for _, o := range outs {
			rt.Outgoing = append(rt.Outgoing, o.Name)
		}
	}
	cfg.Routes = []configs.Route{rt}
	return cfg
}

// testOutgoing is an outgoing to a local receiver with short, test-sized intervals.
func testOutgoing(name, url string) configs.Outgoing {
	return configs.Outgoing{
		Name:                 name,
		URL:                  url,
		Timeout:              2 * time.Second,
		Concurrency:          4,
		Retry:                configs.Retry{MaxAttempts: 5, InitialInterval: 50 * time.Millisecond, MaxInterval: 200 * time.Millisecond},
		AllowPrivateNetworks: true,
	}.WithDefaults()
}

// startRouter builds and starts a Router stopped by t.Cleanup.
func startRouter(t testing.TB, cfg *configs.Config, js jetstream.JetStream) *Router {
	t.Helper()
	r, err := New(cfg, js, zaptest.NewLogger(t), "test")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { stopRouter(t, r) })
	return r
}

func stopRouter(t testing.TB, r *Router) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Errorf("Stop: %v", err)
	}
}

// publishTask publishes a task as the gateway does: CloudEvents binary mode.
func publishTask(t testing.TB, js jetstream.JetStream, subject, id, body string) {
	t.Helper()
	publishMsg(t, js, taskMsg(subject, id, body))
}

// taskMsg is the message of a task on subject with ce-id id.
func taskMsg(subject, id, body string) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Data = []byte(body)
	m.Header.Set("ce-specversion", "1.0")
	m.Header.Set("ce-id", id)
	m.Header.Set("ce-type", "hookgate.orders")
	m.Header.Set("ce-source", "/webhooks/orders")
	m.Header.Set("ce-incoming", "orders")
	m.Header.Set("content-type", "application/json")
	m.Header.Set(nats.MsgIdHdr, "orders/orders/"+id)
	return m
}

// publishMsg publishes m and waits for its ack.
func publishMsg(t testing.TB, js jetstream.JetStream, m *nats.Msg) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := js.PublishMsg(ctx, m); err != nil {
		t.Fatalf("publish %s: %v", m.Header.Get("ce-id"), err)
	}
}

// arrival is one request seen by a receiver.
type arrival struct {
	at     time.Time
	header http.Header
	body   string
	host   string
}

// receiver is an httptest server on 127.0.0.1 that records every request
// and answers with respond (200 when nil).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	arrivals []arrival
	notify   chan struct{}
	respond  func(n int, a arrival, w http.ResponseWriter) // n: 0-based request count
}

func newReceiver(t testing.TB, respond func(n int, a arrival, w http.ResponseWriter)) *receiver {
	rc := &receiver{notify: make(chan struct{}, 1<<16), respond: respond}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		a := arrival{at: time.Now(), header: req.Header.Clone(), body: string(b), host: req.Host}
		rc.mu.Lock()
		n := len(rc.arrivals)
		rc.arrivals = append(rc.arrivals, a)
		rc.mu.Unlock()
		rc.notify <- struct{}{}
		if rc.respond != nil {
			rc.respond(n, a, w)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

// retryAfterOnce answers the first request with status and Retry-After:
// after, and every later one with 200.
func retryAfterOnce(status int, after string) func(int, arrival, http.ResponseWriter) {
	return func(n int, _ arrival, w http.ResponseWriter) {
		if n == 0 {
			w.Header().Set("Retry-After", after)
			w.WriteHeader(status)
		}
	}
}

// heldReceiver is a receiver that answers its first request only once
// release is closed, so that a delivery stays under way.
func heldReceiver(t testing.TB) (rc *receiver, release chan struct{}) {
	release = make(chan struct{})
	return newReceiver(t, func(n int, _ arrival, _ http.ResponseWriter) {
		if n == 0 {
			<-release
		}
	}), release
}

// afterRelease asserts that what (Stop, Reload) has not returned on done
// while the delivery heldReceiver holds is under way, then closes release
// and returns what done then delivers.
func afterRelease(t testing.TB, what string, done <-chan error, release chan struct{}) error {
	t.Helper()
	select {
	case err := <-done:
		t.Fatalf("%s returned (%v) while a delivery was under way", what, err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	return <-done
}

// wait blocks until n requests arrived and returns them.
func (rc *receiver) wait(t testing.TB, n int) []arrival {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		rc.mu.Lock()
		if len(rc.arrivals) >= n {
			out := append([]arrival(nil), rc.arrivals...)
			rc.mu.Unlock()
			return out
		}
		have := len(rc.arrivals)
		rc.mu.Unlock()
		select {
		case <-rc.notify:
		case <-deadline:
			t.Fatalf("receiver: %d of %d requests within 20s", have, n)
		}
	}
}

// count is how many requests arrived so far.
func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.arrivals)
}

// nextDeadLetter returns the first message on subject in the DLQ stream.
func nextDeadLetter(t testing.TB, js jetstream.JetStream, subject string) jetstream.Msg {
	t.Helper()
	return natstest.Read(t, js, dlqStream, subject, 1)[0]
}

// settled waits until the pair's consumer has nothing pending or unacked.
func settled(t testing.TB, js jetstream.JetStream, route, outgoing string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		c, err := js.Consumer(ctx, testStream, bus.ConsumerName(route, outgoing))
		if err != nil {
			t.Fatalf("consumer: %v", err)
		}
		info := c.CachedInfo()
		if info.NumPending == 0 && info.NumAckPending == 0 && info.NumRedelivered == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("consumer %s not settled: pending %d, ack pending %d", info.Name, info.NumPending, info.NumAckPending)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
