package gateway

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
)

// BenchmarkIngestJSON1KiBTracing is BenchmarkIngestJSON1KiBRatio's
// hookgate request in four ways, alternating in blocks of 100 requests on
// one in-process broker: "untraced" is the ingest path as it was before
// tracing (no trace context at all); "off", what ships without an endpoint
// (the trace context made and put on the task, no SDK); "off-parent" the
// same with a sender's traceparent and tracestate; "on", spans recorded
// and exported over OTLP/HTTP to a local collector that discards them
// (flushed at the end of each of its blocks).
// off/untraced-cpu is what propagation costs (SPEC §12: within noise).
func BenchmarkIngestJSON1KiBTracing(b *testing.B) {
	bs := inProcessBus(b)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	b.Cleanup(collector.Close)
	exp, err := NewExporter(context.Background(), configs.Tracing{OTLPEndpoint: collector.URL, SampleRatio: 1}, func(string) string { return "" }, "bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = exp.Shutdown(context.Background()) })

	parent := []string{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "tracestate", "congo=t61rcWkgMzE"}
	alternate(b, 100,
		contender{"untraced", tracedHookgate(b, bs, func(s *Server) { s.tracer.off = true })},
		contender{"off", tracedHookgate(b, bs, nil)},
		contender{"off-parent", tracedHookgate(b, bs, nil, parent...)},
		contender{"on", flushedEvery(100, exp, tracedHookgate(b, bs, func(s *Server) { s.SetTracerProvider(exp.TracerProvider()) }))},
	)
}

// flushedEvery runs post and, after every n-th call, exports the spans
// queued so far: with alternate's blocks of n, the export's CPU is charged
// to the block that made the spans, not to whichever block runs when the
// batcher's timer fires (which made "on" look cheaper than "off").
func flushedEvery(n int, exp *Exporter, post func()) func() {
	calls := 0
	return func() {
		post()
		if calls++; calls%n == 0 {
			_ = exp.tp.ForceFlush(context.Background())
		}
	}
}

// tracedHookgate is jsonHookgate with set applied to the server and the
// given request headers (name, value pairs).
func tracedHookgate(b *testing.B, bs *bus.Bus, set func(*Server), header ...string) func() {
	s := benchServer(b, bs,
		configs.Webhook{Name: "Orders", Identifier: "orders", Incoming: "orders", Methods: []string{"POST"}, MaxBody: 10 << 20},
		configs.Incoming{Name: "orders", Parser: "json", ReadMethod: "full", OnEmpty: "reject", MaxItems: 100000, Subject: "tasks.orders", Type: "hookgate.orders"})
	if set != nil {
		set(s)
	}
	c := newIngestClient(b, s.Handler(), "/webhooks/orders", "application/json", json1KiB())
	for i := 0; i+1 < len(header); i += 2 {
		c.req.Header.Set(header[i], header[i+1])
	}
	return func() { c.post(b) }
}

// BenchmarkTraceContext is the trace context of one request alone, without
// an exporter: a new trace, or a sender's continued.
func BenchmarkTraceContext(b *testing.B) {
	for _, tc := range []struct {
		name   string
		header http.Header
	}{
		{"new", http.Header{}},
		{"continued", http.Header{"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}},
		{"continued-tracestate", http.Header{"Traceparent": {"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, "Tracestate": {"congo=t61rcWkgMzE"}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodPost, "/webhooks/orders", nil)
			req.Header = tc.header
			var tr tracer
			b.ReportAllocs()
			for b.Loop() {
				if rt := tr.begin(req, "orders"); rt.parent == "" {
					b.Fatal("no traceparent")
				}
			}
		})
	}
}
