package admin

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/bus"
	"github.com/hookgate/hookgate/test/natstest"
)

// BenchmarkIngestJSON1KiBMetrics is gateway's BenchmarkIngestJSON1KiB
// "hookgate" case without and with metrics: the difference is what
// recording a request costs on the hot path.
func BenchmarkIngestJSON1KiBMetrics(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"id":"evt_1","type":"order.updated","data":{"order":{"id":1001,"status":"released","lines":[`)
	for i := 0; sb.Len() < 1000; i++ {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"sku":"SKU-%04d","qty":%d,"price":"%d.95"}`, i, i+1, i*3)
	}
	sb.WriteString(`]}}}`)
	body := []byte(sb.String())

	for _, withMetrics := range []bool{false, true} {
		name := "off"
		if withMetrics {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			// A fresh server per run: no stream grows from the runs before.
			ns := natstest.Start(b)
			bs, err := bus.Open(context.Background(), configs.NATS{URL: ns.ClientURL(), PublishTimeout: 5 * time.Second}, zap.NewNop())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = bs.Close(context.Background()) })
			rt, err := gateway.Build(&configs.Config{
				Server: configs.Server{MaxBody: 10 << 20},
				NATS:   configs.NATS{PublishTimeout: 5 * time.Second},
				Webhooks: []configs.Webhook{{Name: "Orders", Identifier: "orders", Incoming: "orders",
					Methods: []string{"POST"}, MaxBody: 10 << 20}},
				Incoming: []configs.Incoming{{Name: "orders", Parser: "json", ReadMethod: "full", OnEmpty: "reject",
					MaxItems: 100000, Subject: "tasks.orders", Type: "hookgate.orders"}},
			})
			if err != nil {
				b.Fatal(err)
			}
			srv := gateway.New(rt, bs, zap.NewNop())
			if withMetrics {
				m, err := gateway.NewMetrics(prometheus.NewRegistry())
				if err != nil {
					b.Fatal(err)
				}
				srv.SetMetrics(m)
			}
			h := srv.Handler()
			b.ReportAllocs()
			b.ResetTimer()
			start := cpuTime()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/webhooks/orders", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the process's user+system CPU time, steadier than wall time
// on a noisy machine.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
