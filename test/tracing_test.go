package test

import (
	"compress/gzip"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

const (
	senderTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	senderSpanID  = "00f067aa0ba902b7"
	senderState   = "congo=t61rcWkgMzE"
)

// otlpReceiver is an OTLP/HTTP collector on 127.0.0.1: it decodes every
// ExportTraceServiceRequest posted to /v1/traces and keeps its spans.
type otlpReceiver struct {
	*httptest.Server
	mu      sync.Mutex
	spans   []*tracepb.Span
	service []string // service.name of each export
	auth    []string // Authorization of each export
	paths   []string // every path requested
}

func newOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	o := &otlpReceiver{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		raw, _ := io.ReadAll(body)
		var req collectortrace.ExportTraceServiceRequest
		err := proto.Unmarshal(raw, &req)
		o.mu.Lock()
		defer o.mu.Unlock()
		o.paths = append(o.paths, r.URL.Path)
		if err != nil || r.URL.Path != "/v1/traces" {
			http.Error(w, "not an OTLP trace export", http.StatusBadRequest)
			return
		}
		o.auth = append(o.auth, r.Header.Get("Authorization"))
		for _, rs := range req.ResourceSpans {
			for _, kv := range rs.GetResource().GetAttributes() {
				if kv.Key == "service.name" {
					o.service = append(o.service, kv.Value.GetStringValue())
				}
			}
			for _, ss := range rs.ScopeSpans {
				o.spans = append(o.spans, ss.Spans...)
			}
		}
		out, _ := proto.Marshal(&collectortrace.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(o.Close)
	return o
}

// waitSpan waits until a span named name has arrived and returns it.
func (o *otlpReceiver) waitSpan(t *testing.T, name string, within time.Duration) *tracepb.Span {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		o.mu.Lock()
		for _, s := range o.spans {
			if s.Name == name {
				o.mu.Unlock()
				return s
			}
		}
		names := make([]string, 0, len(o.spans))
		for _, s := range o.spans {
			names = append(names, s.Name)
		}
		o.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no span %s within %s; got %v", name, within, names)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func spanAttrs(s *tracepb.Span) map[string]string {
	out := map[string]string{}
	for _, kv := range s.Attributes {
		out[kv.Key] = attrString(kv.Value)
	}
	return out
}

func attrString(v *commonpb.AnyValue) string {
	switch x := v.Value.(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return strconv.FormatInt(x.IntValue, 10)
	case *commonpb.AnyValue_ArrayValue:
		parts := []string{}
		for _, e := range x.ArrayValue.Values {
			parts = append(parts, attrString(e))
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	return v.String()
}

// traceparentParts splits a version 00 traceparent into trace id, span id
// and flags, failing the test when it is not one.
func traceparentParts(t *testing.T, what, tp string) (traceID, spanID, flags string) {
	t.Helper()
	p := strings.Split(tp, "-")
	if len(tp) != 55 || len(p) != 4 || p[0] != "00" {
		t.Fatalf("%s %q is not a version 00 traceparent", what, tp)
	}
	return p[1], p[2], p[3]
}

// tracedConfig is a webhook delivering each item to rcv, with extra YAML
// (a tracing section) appended.
func tracedConfig(rcv *receiver, extra string) string {
	return routerBase + `
outgoing:
  - {name: shop, url: "` + rcv.URL + `/orders", allow_private_networks: true}
routes:
  - {name: to-shop, incoming: orders, outgoing: [shop]}
` + extra
}

// A traceparent sent with a request arrives, same trace id, on the task
// (ce-traceparent, ce-tracestate) and on the delivery (traceparent, a span
// id of the attempt's), and the request and delivery spans reach the OTLP
// receiver with their attributes (SPEC §12).
func TestTracingExportsRequestAndDeliverySpans(t *testing.T) {
	otlp := newOTLPReceiver(t)
	rcv := newReceiver(t, nil)
	hg := start(t, writeConfig(t, map[string]string{"h.yaml": tracedConfig(rcv, `
tracing: {otlp_endpoint: "`+otlp.URL+`"}
`)}), "OTEL_BSP_SCHEDULE_DELAY=50", "OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20otlp-s3cret-token")

	resp := hg.post("orders", "application/json", []byte(`{"items":[{"n":1}]}`),
		"traceparent: 00-"+senderTraceID+"-"+senderSpanID+"-01", "tracestate: "+senderState)
	if resp.Status != http.StatusOK {
		t.Fatalf("post: %d %s", resp.Status, resp.Raw)
	}

	tasks := readStream(t, hg.NATSURL, "HOOKGATE_TASKS", "tasks.orders", 1)
	taskTrace, taskSpan, _ := traceparentParts(t, "ce-traceparent", tasks[0].Header.Get("ce-traceparent"))
	if taskTrace != senderTraceID || taskSpan == senderSpanID {
		t.Errorf("task ce-traceparent %q: want trace %s with hookgate's request span as the parent", tasks[0].Header.Get("ce-traceparent"), senderTraceID)
	}
	if got := tasks[0].Header.Get("ce-tracestate"); got != senderState {
		t.Errorf("task ce-tracestate %q, want %q", got, senderState)
	}

	d := rcv.next(t, 30*time.Second)
	delTrace, delSpan, delFlags := traceparentParts(t, "delivery traceparent", d.Header.Get("traceparent"))
	if delTrace != senderTraceID || delSpan == taskSpan || delSpan == senderSpanID || delFlags != "01" {
		t.Errorf("delivery traceparent %q: want trace %s, sampled, with a span id of its own", d.Header.Get("traceparent"), senderTraceID)
	}
	if got := d.Header.Get("tracestate"); got != senderState {
		t.Errorf("delivery tracestate %q, want %q", got, senderState)
	}

	req := otlp.waitSpan(t, "hookgate.request", 30*time.Second)
	del := otlp.waitSpan(t, "hookgate.deliver", 30*time.Second)
	if hex.EncodeToString(req.TraceId) != senderTraceID || hex.EncodeToString(req.ParentSpanId) != senderSpanID || hex.EncodeToString(req.SpanId) != taskSpan {
		t.Errorf("request span trace %x parent %x span %x; want trace %s, parent %s, and the task's parent %s",
			req.TraceId, req.ParentSpanId, req.SpanId, senderTraceID, senderSpanID, taskSpan)
	}
	if req.Kind != tracepb.Span_SPAN_KIND_SERVER || req.TraceState != senderState {
		t.Errorf("request span kind %v tracestate %q; want a server span with %q", req.Kind, req.TraceState, senderState)
	}
	want := map[string]string{"hookgate.webhook": "orders", "hookgate.incoming": "[orders]", "hookgate.tasks": "1",
		"hookgate.request_id": resp.Header.Get("X-Request-Id"), "http.response.status_code": "200"}
	assertAttrs(t, "request", spanAttrs(req), want)

	if hex.EncodeToString(del.TraceId) != senderTraceID || hex.EncodeToString(del.ParentSpanId) != taskSpan || hex.EncodeToString(del.SpanId) != delSpan {
		t.Errorf("delivery span trace %x parent %x span %x; want trace %s, the request span %s as parent, and the span id %s the delivery carried",
			del.TraceId, del.ParentSpanId, del.SpanId, senderTraceID, taskSpan, delSpan)
	}
	if del.Kind != tracepb.Span_SPAN_KIND_CLIENT {
		t.Errorf("delivery span kind %v, want client", del.Kind)
	}
	assertAttrs(t, "delivery", spanAttrs(del), map[string]string{"hookgate.webhook": "orders", "hookgate.incoming": "orders",
		"hookgate.route": "to-shop", "hookgate.outgoing": "shop", "hookgate.attempt": "1", "http.response.status_code": "200"})

	for _, name := range []string{"hookgate.parse", "hookgate.publish"} {
		if sp := otlp.waitSpan(t, name, 30*time.Second); hex.EncodeToString(sp.ParentSpanId) != taskSpan {
			t.Errorf("%s span's parent %x, want the request span %s", name, sp.ParentSpanId, taskSpan)
		}
	}
	otlp.mu.Lock()
	defer otlp.mu.Unlock()
	for i, a := range otlp.auth {
		if a != "Bearer otlp-s3cret-token" {
			t.Errorf("export %d: Authorization %q, want the one OTEL_EXPORTER_OTLP_HEADERS sets", i, a)
		}
	}
	if len(otlp.service) == 0 || otlp.service[0] != "hookgate" {
		t.Errorf("service.name %v, want hookgate", otlp.service)
	}
	if strings.Contains(hg.log.String(), "otlp-s3cret-token") {
		t.Errorf("the log shows the exporter's header secret:\n%s", hg.log)
	}
}

func assertAttrs(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s span attribute %s = %q, want %q (all: %v)", what, k, got[k], v, got)
		}
	}
}

// OTEL_EXPORTER_OTLP_ENDPOINT is a base URL like tracing.otlp_endpoint:
// spans go to <base>/v1/traces. Without a traceparent a new trace is
// started, the same on the task, the delivery and the spans.
func TestTracingEndpointFromEnvironment(t *testing.T) {
	otlp := newOTLPReceiver(t)
	rcv := newReceiver(t, nil)
	hg := start(t, writeConfig(t, map[string]string{"h.yaml": tracedConfig(rcv, "")}),
		"OTEL_BSP_SCHEDULE_DELAY=50", "OTEL_EXPORTER_OTLP_ENDPOINT="+otlp.URL+"/")
	postItems(t, hg, `{"n":1}`)
	tasks := readStream(t, hg.NATSURL, "HOOKGATE_TASKS", "tasks.orders", 1)
	taskTrace, taskSpan, flags := traceparentParts(t, "ce-traceparent", tasks[0].Header.Get("ce-traceparent"))
	if flags != "01" {
		t.Errorf("a new trace has flags %s, want 01 (sample_ratio 1)", flags)
	}
	d := rcv.next(t, 30*time.Second)
	if delTrace, _, _ := traceparentParts(t, "delivery traceparent", d.Header.Get("traceparent")); delTrace != taskTrace {
		t.Errorf("delivery trace %s, want the task's %s", delTrace, taskTrace)
	}
	del := otlp.waitSpan(t, "hookgate.deliver", 30*time.Second)
	if hex.EncodeToString(del.TraceId) != taskTrace || hex.EncodeToString(del.ParentSpanId) != taskSpan {
		t.Errorf("delivery span trace %x parent %x, want %s and %s", del.TraceId, del.ParentSpanId, taskTrace, taskSpan)
	}
}

// Without an endpoint nothing is exported: not even to OTLP's default
// port, localhost:4318. Tasks and deliveries still carry the trace.
func TestTracingWithoutEndpointExportsNothing(t *testing.T) {
	var defaultPort *otlpReceiver
	if ln, err := net.Listen("tcp", "127.0.0.1:4318"); err == nil {
		defaultPort = &otlpReceiver{}
		defaultPort.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defaultPort.mu.Lock()
			defaultPort.paths = append(defaultPort.paths, r.URL.Path)
			defaultPort.mu.Unlock()
		}))
		defaultPort.Listener.Close()
		defaultPort.Listener = ln
		defaultPort.Start()
		t.Cleanup(defaultPort.Close)
	} else {
		t.Logf("127.0.0.1:4318 is taken (%v): only the log is checked", err)
	}
	rcv := newReceiver(t, nil)
	// Empty values override any the test's own environment sets.
	hg := start(t, writeConfig(t, map[string]string{"h.yaml": tracedConfig(rcv, "")}), "OTEL_BSP_SCHEDULE_DELAY=50",
		"OTEL_EXPORTER_OTLP_ENDPOINT=", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=")
	resp := hg.post("orders", "application/json", []byte(`{"items":[{"n":1}]}`), "traceparent: 00-"+senderTraceID+"-"+senderSpanID+"-00")
	if resp.Status != http.StatusOK {
		t.Fatalf("post: %d %s", resp.Status, resp.Raw)
	}
	tasks := readStream(t, hg.NATSURL, "HOOKGATE_TASKS", "tasks.orders", 1)
	taskTrace, taskSpan, flags := traceparentParts(t, "ce-traceparent", tasks[0].Header.Get("ce-traceparent"))
	if taskTrace != senderTraceID || taskSpan == senderSpanID || flags != "00" {
		t.Errorf("task ce-traceparent %q: want the sender's unsampled trace %s continued", tasks[0].Header.Get("ce-traceparent"), senderTraceID)
	}
	d := rcv.next(t, 30*time.Second)
	delTrace, delSpan, delFlags := traceparentParts(t, "delivery traceparent", d.Header.Get("traceparent"))
	if delTrace != senderTraceID || delSpan == taskSpan || delFlags != "00" {
		t.Errorf("delivery traceparent %q: want trace %s, unsampled, a span id of its own", d.Header.Get("traceparent"), senderTraceID)
	}
	hg.stop() // a flush at shutdown would export now
	if strings.Contains(hg.log.String(), "exporting spans") {
		t.Errorf("spans exported without an endpoint:\n%s", hg.log)
	}
	if defaultPort != nil {
		defaultPort.mu.Lock()
		defer defaultPort.mu.Unlock()
		if len(defaultPort.paths) > 0 {
			t.Errorf("requests to OTLP's default port without an endpoint: %v", defaultPort.paths)
		}
	}
}

// A collector that never answers neither slows nor fails ingest or
// delivery, and serve still stops cleanly (its flush is bounded).
func TestTracingHangingCollectorDoesNotBlockIngest(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(release) })
	rcv := newReceiver(t, nil)
	hg := start(t, writeConfig(t, map[string]string{"h.yaml": tracedConfig(rcv, `
tracing: {otlp_endpoint: "`+hang.URL+`"}
`)}), "OTEL_BSP_SCHEDULE_DELAY=10")
	const n = 20
	for i := range n {
		postItems(t, hg, `{"n":`+strconv.Itoa(i)+`}`)
	}
	for range n {
		rcv.next(t, 30*time.Second)
	}
	readStream(t, hg.NATSURL, "HOOKGATE_TASKS", "tasks.orders", n)
	// stop (at cleanup) asserts a clean exit within 30s.
}
