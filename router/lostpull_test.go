package router

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/test/natstest"
)

// A pull request that never reaches the server (lost on the way, or
// dropped by the server) leaves the client sure it asked for tasks while
// the server holds no request: nothing is delivered and no heartbeat comes
// until the client notices the silence. Seen once in about 45 runs of
// BenchmarkDeliver (all deliveries stopped for 30s, nats.go's default of
// twice a 15s heartbeat). The router asks for a heartbeat every
// pullHeartbeat, so such a stall lasts seconds.
func TestALostPullRequestHoldsDeliveriesForSecondsOnly(t *testing.T) {
	s := natstest.Start(t)
	_, direct := natstest.Connect(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for name, subj := range map[string][]string{testStream: {"tasks.>"}, dlqStream: {"dlq.>"}} {
		if _, err := direct.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: subj}); err != nil {
			t.Fatal(err)
		}
	}
	proxy := startPullDropper(t, s.Addr().String(), 1)
	nc, err := nats.Connect("nats://" + proxy.addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	proxied, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	rc := newReceiver(t, nil)
	startRouter(t, testConfig(configs.Route{}, testOutgoing("erp", rc.URL)), proxied)

	start := time.Now()
	publishTask(t, direct, "tasks.orders", "req-1-orders-0", `{"n":1}`)
	select {
	case <-rc.notify:
	case <-time.After(3 * pullHeartbeat):
		t.Fatalf("no delivery %s after the task was stored; a lost pull request must not hold deliveries longer than twice the heartbeat (%s)", time.Since(start).Round(time.Millisecond), pullHeartbeat)
	}
	if n := proxy.dropped.Load(); n != 1 {
		t.Fatalf("%d pull requests dropped, want 1: the test did not lose the router's first pull", n)
	}
	t.Logf("delivered %s after the task was stored", time.Since(start).Round(time.Millisecond))
}

// The heartbeat does not make a busy pair look stalled: while every slot
// waits for a slow destination (longer than two beats), JetStream keeps
// beating on the waiting pull request, and the router never reports a
// missed heartbeat.
func TestASlowDestinationIsNoLostPull(t *testing.T) {
	js := startJSWithLog(t)
	slow := 2*pullHeartbeat + time.Second
	rc := newReceiver(t, func(n int, _ arrival, w http.ResponseWriter) {
		if n == 0 {
			time.Sleep(slow)
		}
	})
	out := testOutgoing("erp", rc.URL)
	out.Concurrency, out.Timeout = 1, 2*slow
	core, logs := observer.New(zap.WarnLevel)
	r, err := New(testConfig(configs.Route{}, out), js, zap.New(core), "test")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stopRouter(t, r) })
	publishTask(t, js, "tasks.orders", "req-1-orders-0", `{"n":0}`)
	publishTask(t, js, "tasks.orders", "req-1-orders-1", `{"n":1}`)
	rc.wait(t, 2)
	for _, e := range logs.All() {
		t.Errorf("logged %q %v while the destination was slow; want nothing", e.Message, e.ContextMap())
	}
}

// pullDropper is a TCP proxy to a nats-server that passes everything on
// except the first few pull requests ($JS.API.CONSUMER.MSG.NEXT) clients
// send, which it swallows.
type pullDropper struct {
	ln      net.Listener
	target  string
	drop    atomic.Int32 // pull requests still to swallow
	dropped atomic.Int32
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   []net.Conn
}

func startPullDropper(t *testing.T, target string, drop int32) *pullDropper {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pullDropper{ln: ln, target: target}
	p.drop.Store(drop)
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *pullDropper) addr() string { return p.ln.Addr().String() }

func (p *pullDropper) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *pullDropper) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, client, server)
		p.mu.Unlock()
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			_, _ = io.Copy(client, server)
			_ = client.Close()
		}()
		go func() {
			defer p.wg.Done()
			p.filter(server, client)
			_ = server.Close()
		}()
	}
}

// filter copies the client's protocol to the server one operation at a
// time, leaving out the pull requests it is to drop.
func (p *pullDropper) filter(to io.Writer, from io.Reader) {
	r := bufio.NewReader(from)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		out := []byte(line)
		f := strings.Fields(line)
		if len(f) >= 3 && (strings.EqualFold(f[0], "PUB") || strings.EqualFold(f[0], "HPUB")) {
			size, err := strconv.Atoi(f[len(f)-1]) // PUB: size; HPUB: total size
			if err != nil {
				return
			}
			payload := make([]byte, size+2) // and its CRLF
			if _, err := io.ReadFull(r, payload); err != nil {
				return
			}
			if strings.HasPrefix(f[1], "$JS.API.CONSUMER.MSG.NEXT.") && p.drop.Add(-1) >= 0 {
				p.dropped.Add(1)
				continue
			}
			out = append(out, payload...)
		}
		if _, err := to.Write(out); err != nil {
			return
		}
	}
}
