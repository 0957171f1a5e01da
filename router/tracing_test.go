package router

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
)

const (
	taskTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	taskSpan  = "00f067aa0ba902b7"
)

// tracedAttempt makes one attempt of a task with headers h to a local
// receiver, recording spans in tp (nil: none), and returns the request's
// traceparent and tracestate and the receiver's status.
func tracedAttempt(t *testing.T, tp trace.TracerProvider, h nats.Header, status int) (traceparent, tracestate string, derr *deliveryError) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		traceparent, tracestate = r.Header.Get("traceparent"), r.Header.Get("tracestate")
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	out := testOutgoing("shop", srv.URL)
	out.Headers = append(out.Headers, configs.KeyValue{Key: "traceparent", Value: "00-" + strings.Repeat("1", 32) + "-" + strings.Repeat("2", 16) + "-01"})
	d, err := newDestination(out, nil, "test", 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.transport.CloseIdleConnections)
	r := &Router{tracer: tracerOf(tp)}
	ctx := r.traceAttempt(context.Background(), &pair{route: &route{name: "to-shop"}, dest: d}, h, "task-1", 3)
	derr = d.send(ctx, context.Background(), []byte(`{}`), "application/json", "task-1")
	return traceparent, tracestate, derr
}

// Every attempt sends a traceparent continuing its task's ce-traceparent
// (same trace id and flags, a span id of its own) and the task's
// tracestate; a task without one, or with a malformed one, starts a new
// sampled trace. An outgoing header of that name is replaced.
func TestDeliveryTraceContext(t *testing.T) {
	tests := []struct {
		name      string
		parent    string
		state     string
		continued bool
		flags     string
	}{
		{"the task's trace is continued", "00-" + taskTrace + "-" + taskSpan + "-01", "", true, "01"},
		{"an unsampled trace stays unsampled", "00-" + taskTrace + "-" + taskSpan + "-00", "", true, "00"},
		{"tracestate is carried", "00-" + taskTrace + "-" + taskSpan + "-01", "congo=t61rcWkgMzE", true, "01"},
		{"a task without one starts a trace", "", "", false, "01"},
		{"a malformed one starts a trace", "00-" + taskTrace + "-xyz-01", "congo=t61rcWkgMzE", false, "01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := nats.Header{}
			if tt.parent != "" {
				h.Set(bus.HeaderCETraceParent, tt.parent)
			}
			if tt.state != "" {
				h.Set(bus.HeaderCETraceState, tt.state)
			}
			tp, ts, derr := tracedAttempt(t, nil, h, http.StatusOK)
			if derr != nil {
				t.Fatal(derr)
			}
			p := strings.Split(tp, "-")
			if len(tp) != 55 || len(p) != 4 || p[0] != "00" {
				t.Fatalf("traceparent %q is not a version 00 traceparent", tp)
			}
			if got := p[1] == taskTrace; got != tt.continued {
				t.Errorf("traceparent %q continues the task's trace: %v, want %v", tp, got, tt.continued)
			}
			if p[1] == strings.Repeat("1", 32) || p[2] == taskSpan || p[2] == strings.Repeat("2", 16) || p[3] != tt.flags {
				t.Errorf("traceparent %q: want a span id of the attempt's and flags %s", tp, tt.flags)
			}
			wantState := tt.state
			if !tt.continued {
				wantState = ""
			}
			if ts != wantState {
				t.Errorf("tracestate %q, want %q", ts, wantState)
			}
		})
	}
}

// With a TracerProvider an attempt is a client span, child of the task's
// traceparent, whose span id the request carries, with the pair, the
// task's webhook and incoming, the attempt and the HTTP status.
func TestDeliverySpan(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	h := nats.Header{}
	h.Set(bus.HeaderCETraceParent, "00-"+taskTrace+"-"+taskSpan+"-01")
	h.Set(bus.HeaderCEWebhook, "orders")
	h.Set(bus.HeaderCEIncoming, "erp-orders")
	sent, _, derr := tracedAttempt(t, tp, h, http.StatusServiceUnavailable)
	if derr == nil {
		t.Fatal("a 503 is no failure")
	}
	spans := rec.Ended()
	if len(spans) != 1 {
		t.Fatalf("%d spans, want 1", len(spans))
	}
	sp := spans[0]
	if sp.Name() != bus.SpanDeliver || sp.SpanKind() != trace.SpanKindClient {
		t.Errorf("span %s kind %v, want %s client", sp.Name(), sp.SpanKind(), bus.SpanDeliver)
	}
	if sp.Parent().TraceID().String() != taskTrace || sp.Parent().SpanID().String() != taskSpan {
		t.Errorf("span parent %v, want the task's traceparent", sp.Parent())
	}
	if want := "00-" + taskTrace + "-" + sp.SpanContext().SpanID().String() + "-01"; sent != want {
		t.Errorf("request traceparent %s, want the span's %s", sent, want)
	}
	attrs := map[string]string{}
	for _, kv := range sp.Attributes() {
		attrs[string(kv.Key)] = kv.Value.Emit()
	}
	for k, v := range map[string]string{
		bus.AttrRoute: "to-shop", bus.AttrOutgoing: "shop", bus.AttrWebhook: "orders", bus.AttrIncoming: "erp-orders",
		bus.AttrTaskID: "task-1", bus.AttrAttempt: "3", "http.response.status_code": "503",
		bus.AttrError: "unexpected status 503 Service Unavailable",
	} {
		if attrs[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, attrs[k], v)
		}
	}
	if sp.Status().Code.String() != "Error" {
		t.Errorf("status %v, want Error", sp.Status())
	}
}
