package router

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hookgate/hookgate/configs"
)

const benchBody = `{"orderId":"42","status":"released","lines":[{"sku":"A-1","qty":3},{"sku":"B-2","qty":1}],"customer":{"name":"Ann","country":"NL"}}`

// countingServer answers 200 and closes done after n requests.
func countingServer(b *testing.B, n int64) (*httptest.Server, chan struct{}) {
	var got atomic.Int64
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if got.Add(1) == n {
			close(done)
		}
	}))
	b.Cleanup(srv.Close)
	return srv, done
}

// BenchmarkDeliver measures deliveries per second from JetStream to a local
// receiver: the tasks are stored first, then a Router delivers them all.
func BenchmarkDeliver(b *testing.B) {
	for _, conc := range []int{8, 64} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			b.ReportAllocs()
			js := startJS(b)
			srv, done := countingServer(b, int64(b.N))
			out := testOutgoing("erp", srv.URL)
			out.Concurrency = conc
			cfg := testConfig(configs.Route{}, out)

			// Create the durable consumer, then store b.N tasks for it.
			r, err := New(cfg, js, nil, "bench")
			if err != nil {
				b.Fatal(err)
			}
			if err := r.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			_ = r.Stop(context.Background())
			for i := range b.N {
				m := nats.NewMsg("tasks.orders")
				m.Data = []byte(benchBody)
				m.Header.Set("ce-id", fmt.Sprintf("bench-%d", i))
				m.Header.Set("content-type", "application/json")
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
			start := time.Now()
			// No logger: zaptest would log every delivery into the measurement.
			if r, err = New(cfg, js, nil, "bench"); err != nil {
				b.Fatal(err)
			}
			if err := r.Start(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = r.Stop(context.Background()) })
			select {
			case <-done:
			case <-time.After(5 * time.Minute):
				b.Fatal("not every task delivered")
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
		})
	}
}

// BenchmarkDirectPOST is the baseline: the same bodies POSTed with net/http
// by the same number of goroutines, without NATS or the router.
func BenchmarkDirectPOST(b *testing.B) {
	for _, conc := range []int{8, 64} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			b.ReportAllocs()
			srv, done := countingServer(b, int64(b.N))
			tr := &http.Transport{MaxIdleConnsPerHost: conc}
			b.Cleanup(tr.CloseIdleConnections)
			client := &http.Client{Transport: tr}
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for range conc {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= int64(b.N) {
						req, _ := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader([]byte(benchBody)))
						req.Header.Set("Content-Type", "application/json")
						resp, err := client.Do(req)
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
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
		})
	}
}
