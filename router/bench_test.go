package router

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
)

// benchItem is a task body the size of bench/deliver.sh's (about 600 bytes).
func benchItem(i int) []byte {
	return []byte(`{"i":` + strconv.Itoa(i) + `,"pad":"` + strings.Repeat("x", 580) + `"}`)
}

// countingServer answers 200 and closes done after n requests. It reports
// the connections it accepted as conns: more than the concurrency means
// the sender's connections churn.
func countingServer(b *testing.B, n int64) (*httptest.Server, chan struct{}) {
	var got, conns atomic.Int64
	done := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if got.Add(1) == n {
			close(done)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	b.Cleanup(func() {
		srv.Close()
		b.ReportMetric(float64(conns.Load()), "conns")
	})
	return srv, done
}

// BenchmarkDeliver measures deliveries from JetStream to a local receiver
// against two baselines, in one run: the ratio of their ns/op is what holds
// on a busy machine.
//   - "direct" is the ceiling of HTTP alone: a plain net/http client with
//     as many workers posting the same bodies to the same kind of receiver.
//   - "floor" is the least a JetStream deliverer does: the same durable
//     consumer as the router's, a plain client posting each task's body,
//     one Ack, and one log entry stored per attempt (SPEC §9), with none of
//     hookgate's own work (headers, filters, metrics, tracing, circuit,
//     retries, redaction). router/floor is what hookgate itself costs;
//     floor/direct is JetStream's price.
//   - "router" runs as `hookgate serve` does: embedded server in-process
//     with file storage, metrics, the attempt log to HOOKGATE_LOG, a logger
//     at warn.
//
// The b.N tasks are stored first; the timer runs while they are delivered.
//
//	go test -run '^$' -bench 'Deliver/' -benchtime 20000x -count 6 ./router/
func BenchmarkDeliver(b *testing.B) {
	for _, conc := range []int{8, 64} {
		b.Run(fmt.Sprintf("c=%d/direct", conc), func(b *testing.B) { benchDirect(b, conc) })
		b.Run(fmt.Sprintf("c=%d/floor", conc), func(b *testing.B) { benchJetStream(b, conc, true) })
		b.Run(fmt.Sprintf("c=%d/router", conc), func(b *testing.B) { benchJetStream(b, conc, false) })
	}
}

func benchDirect(b *testing.B, conc int) {
	b.ReportAllocs()
	srv, done := countingServer(b, int64(b.N))
	tr := &http.Transport{MaxIdleConnsPerHost: conc}
	b.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				resp, err := client.Post(srv.URL, "application/json", bytes.NewReader(benchItem(int(i))))
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	<-done
	b.StopTimer()
	reportRates(b, start, cpu0)
}

// benchJetStream delivers b.N stored tasks with the Router, or with the
// floor deliverer when floor is set.
func benchJetStream(b *testing.B, conc int, floor bool) {
	b.ReportAllocs()
	ctx := context.Background()
	bs, err := bus.Open(ctx, configs.NATS{Embedded: configs.Embedded{StoreDir: b.TempDir()}}, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = bs.Close(ctx) })
	js := bs.JetStream()
	srv, done := countingServer(b, int64(b.N))
	out := testOutgoing("o", srv.URL)
	out.Concurrency = conc
	cfg := testConfig(configs.Route{}, out)
	cfg.NATS.Stream.Name = configs.Default().NATS.Stream.Name
	cfg.Incoming[0].Subject = bus.TaskSubject("orders")
	metrics, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), zap.WarnLevel))
	attempts := bus.NewLogWriter(js, 0, log)
	b.Cleanup(func() { _ = attempts.Close(ctx) })
	newRouter := func() *Router {
		r, err := New(cfg, js, log, "bench", WithMetrics(metrics), WithAttemptLog(attempts), WithCircuits(NewCircuits()))
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Start(ctx); err != nil {
			b.Fatal(err)
		}
		return r
	}

	// Create the durable consumer, then store b.N tasks for it, with the
	// headers the gateway gives them.
	_ = newRouter().Stop(ctx)
	for i := range b.N {
		m := nats.NewMsg(cfg.Incoming[0].Subject)
		m.Data = benchItem(i)
		for k, v := range map[string]string{
			bus.HeaderCESpecVersion: "1.0", bus.HeaderCEID: fmt.Sprintf("bench-%d", i),
			bus.HeaderCESource: "hookgate/bench", bus.HeaderCEType: "hookgate.task",
			bus.HeaderCETime: "2026-12-05T08:00:00Z", bus.HeaderCEWebhook: "bench", bus.HeaderCEIncoming: "orders",
			bus.HeaderCERequestID: "req-1", bus.HeaderCEItemIndex: strconv.Itoa(i), bus.HeaderCEItemCount: strconv.Itoa(b.N),
			bus.HeaderContentType:   "application/json",
			bus.HeaderCETraceParent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		} {
			m.Header.Set(k, v)
		}
		if _, err := js.PublishMsgAsync(m); err != nil {
			b.Fatal(err)
		}
		if i%1000 == 999 || i == b.N-1 { // stay below the async publish window
			select {
			case <-js.PublishAsyncComplete():
			case <-time.After(time.Minute):
				b.Fatal("publish not acknowledged")
			}
		}
	}

	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	if floor {
		stop := floorDeliver(b, js, cfg.NATS.Stream.Name, consumerConfig(bus.ConsumerName("r", "o"), "r", "o", cfg.Incoming[0].Subject, out), srv.URL, attempts)
		b.Cleanup(stop)
	} else {
		r := newRouter()
		b.Cleanup(func() { _ = r.Stop(ctx) })
	}
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		b.Fatal("not every task delivered")
	}
	b.StopTimer()
	reportRates(b, start, cpu0)
}

// floorDeliver is the least a JetStream deliverer does per task: take it
// from the router's durable consumer, post its body with a plain client,
// Ack it, and store a small log entry. The returned func stops it.
func floorDeliver(b *testing.B, js jetstream.JetStream, stream string, cc jetstream.ConsumerConfig, url string, attempts *bus.LogWriter) func() {
	ctx := context.Background()
	c, err := js.CreateOrUpdateConsumer(ctx, stream, cc)
	if err != nil {
		b.Fatal(err)
	}
	it, err := c.Messages(jetstream.PullMaxMessages(cc.MaxAckPending), jetstream.PullHeartbeat(pullHeartbeat))
	if err != nil {
		b.Fatal(err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: cc.MaxAckPending}
	client := &http.Client{Transport: tr}
	subject := bus.AttemptLogSubject("r", "o")
	// One goroutine pulls (an iterator is not for concurrent use) and hands
	// each task to one of the workers.
	tasks := make(chan jetstream.Msg)
	var wg sync.WaitGroup
	for range cc.MaxAckPending {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for msg := range tasks {
				resp, err := client.Post(url, "application/json", bytes.NewReader(msg.Data()))
				if err != nil {
					b.Error(err)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				attempts.Write(subject, []byte(`{"task_id":"`+msg.Headers().Get(bus.HeaderCEID)+`","status":200}`))
				_ = msg.Ack()
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(tasks)
		for {
			msg, err := it.Next()
			if err != nil {
				return // the iterator is stopped
			}
			tasks <- msg
		}
	}()
	return func() {
		it.Stop()
		wg.Wait()
		tr.CloseIdleConnections()
	}
}

// reportRates reports deliveries/s and the CPU time the process (sender
// and receiver together) spent per delivery since start.
func reportRates(b *testing.B, start time.Time, cpu0 time.Duration) {
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
