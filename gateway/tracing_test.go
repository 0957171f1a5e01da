package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
)

// validTraceparent is a version 00 traceparent as hookgate writes it.
var validTraceparent = regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-0[0-3]$`)

const (
	senderTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	senderSpan  = "00f067aa0ba902b7"
)

// postTraced sends a two-item JSON request with the given headers (name,
// value pairs; a name may repeat).
func postTraced(t *testing.T, s *Server, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/traced", strings.NewReader(`{"items":[{"a":1},{"a":2}]}`))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("POST: status %d %s", rec.Code, rec.Body)
	}
	return rec
}

// tracedServer is a webhook with a header_secret validator and a JSON
// target of two items per request; read returns the two tasks' trace
// context (ce-traceparent, ce-tracestate).
func tracedServer(t *testing.T) (*Server, func() [][2]string) {
	t.Helper()
	s, js := logServer(t, configs.Webhook{Name: "traced", Identifier: "traced", Incoming: "items", Methods: []string{"POST"},
		PreProcessors: []configs.PreProcessor{{HeaderSecret: &configs.HeaderSecret{Header: "X-Token", Secret: "t0ken-value"}}}},
		func(cfg *configs.Config) { cfg.Webhooks[0].Logging = false })
	read := func() [][2]string {
		var out [][2]string
		for _, m := range storedTasks(t, js, "tasks.items", 2) {
			out = append(out, [2]string{m.Headers().Get(bus.HeaderCETraceParent), m.Headers().Get(bus.HeaderCETraceState)})
		}
		return out
	}
	return s, read
}

// A request's trace context reaches its tasks (SPEC §12): the sender's
// trace continued (its trace id and sampled flag, a span id of hookgate's
// request), or a new sampled trace when there is none or it is malformed;
// tracestate carried as the sender sent it, malformed dropped, long cut.
func TestTaskTraceContext(t *testing.T) {
	long := make([]string, 0, 20)
	for i := range 20 {
		long = append(long, "v"+string(rune('a'+i))+"="+strings.Repeat("x", 40))
	}
	tests := []struct {
		name      string
		header    []string
		continued bool   // the sender's trace id
		flags     string // of the task's traceparent
		state     string // the task's ce-tracestate
	}{
		{"no traceparent starts a sampled trace", nil, false, "01", ""},
		{"a traceparent is continued", []string{"traceparent", "00-" + senderTrace + "-" + senderSpan + "-01"}, true, "01", ""},
		{"an unsampled trace stays unsampled", []string{"traceparent", "00-" + senderTrace + "-" + senderSpan + "-00"}, true, "00", ""},
		{"tracestate is carried", []string{"traceparent", "00-" + senderTrace + "-" + senderSpan + "-01", "tracestate", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"},
			true, "01", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"},
		{"several tracestate fields are one list", []string{"traceparent", "00-" + senderTrace + "-" + senderSpan + "-01", "tracestate", "congo=t61rcWkgMzE", "tracestate", "rojo=00f067aa0ba902b7"},
			true, "01", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"},
		{"a malformed tracestate alone is dropped", []string{"traceparent", "00-" + senderTrace + "-" + senderSpan + "-01", "tracestate", "no list at all"}, true, "01", ""},
		{"a long tracestate is cut to 512 characters from the end", []string{"traceparent", "00-" + senderTrace + "-" + senderSpan + "-01", "tracestate", strings.Join(long, ",")},
			true, "01", strings.Join(long[:11], ",")},
		{"a later version with more fields is read as version 00", []string{"traceparent", "01-" + senderTrace + "-" + senderSpan + "-01-what-comes-next"}, true, "01", ""},
		{"upper-case hex starts a new trace", []string{"traceparent", "00-" + strings.ToUpper(senderTrace) + "-" + senderSpan + "-01"}, false, "01", ""},
		{"an all-zero trace id starts a new trace", []string{"traceparent", "00-" + strings.Repeat("0", 32) + "-" + senderSpan + "-01"}, false, "01", ""},
		{"an all-zero parent id starts a new trace", []string{"traceparent", "00-" + senderTrace + "-" + strings.Repeat("0", 16) + "-01"}, false, "01", ""},
		{"version ff starts a new trace", []string{"traceparent", "ff-" + senderTrace + "-" + senderSpan + "-01"}, false, "01", ""},
		{"version 00 with more fields starts a new trace", []string{"traceparent", "00-" + senderTrace + "-" + senderSpan + "-01-x"}, false, "01", ""},
		{"garbage starts a new trace and drops its tracestate", []string{"traceparent", "not a traceparent", "tracestate", "congo=t61rcWkgMzE"}, false, "01", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, read := tracedServer(t)
			postTraced(t, s, append([]string{"X-Token", "t0ken-value"}, tt.header...)...)
			tasks := read()
			if tasks[0] != tasks[1] {
				t.Errorf("the tasks of one request carry different trace context: %q and %q", tasks[0], tasks[1])
			}
			tp, state := tasks[0][0], tasks[0][1]
			if !validTraceparent.MatchString(tp) {
				t.Fatalf("ce-traceparent %q is not a version 00 traceparent", tp)
			}
			parts := strings.Split(tp, "-")
			if got := parts[1] == senderTrace; got != tt.continued {
				t.Errorf("ce-traceparent %q: continues the sender's trace %v, want %v", tp, got, tt.continued)
			}
			if parts[2] == senderSpan {
				t.Errorf("ce-traceparent %q has the sender's span id; want hookgate's request as the parent", tp)
			}
			if parts[3] != tt.flags {
				t.Errorf("ce-traceparent %q: flags %s, want %s", tp, parts[3], tt.flags)
			}
			if state != tt.state {
				t.Errorf("ce-tracestate %q, want %q", state, tt.state)
			}
		})
	}
}

// Two requests without a traceparent start two traces.
func TestEachRequestStartsItsOwnTrace(t *testing.T) {
	s, read := tracedServer(t)
	postTraced(t, s, "X-Token", "t0ken-value")
	first := read()[0][0]
	s2, read2 := tracedServer(t)
	postTraced(t, s2, "X-Token", "t0ken-value")
	if second := read2()[0][0]; first[3:35] == second[3:35] {
		t.Errorf("two requests share trace id %s", first[3:35])
	}
}

// FormatTraceparent writes what OpenTelemetry's own propagator writes.
func TestFormatTraceparentAgreesWithOpenTelemetry(t *testing.T) {
	for _, flags := range []trace.TraceFlags{0, trace.FlagsSampled, trace.FlagsSampled | trace.FlagsRandom, 0xff} {
		tid, sid := bus.NewTraceID(), bus.NewSpanID()
		sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: flags})
		h := http.Header{}
		propagation.TraceContext{}.Inject(trace.ContextWithSpanContext(context.Background(), sc), propagation.HeaderCarrier(h))
		if got, want := bus.FormatTraceparent(tid, sid, flags), h.Get("traceparent"); got != want {
			t.Errorf("flags %02x: got %s, want %s", byte(flags), got, want)
		}
	}
}

// With a TracerProvider the request is a server span continuing the
// sender's, with child spans for the validators, the parsing and the
// publishing; the tasks' parent is the request span.
func TestRequestSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	s, read := tracedServer(t)
	s.SetTracerProvider(tp)
	resp := postTraced(t, s, "X-Token", "t0ken-value", "traceparent", "00-"+senderTrace+"-"+senderSpan+"-01", "tracestate", "congo=t61rcWkgMzE")
	tasks := read()

	byName := map[string]sdktrace.ReadOnlySpan{}
	for _, sp := range rec.Ended() {
		byName[sp.Name()] = sp
	}
	req := byName[bus.SpanRequest]
	if req == nil {
		t.Fatalf("no %s span among %v", bus.SpanRequest, byName)
	}
	if req.SpanKind() != trace.SpanKindServer || req.Parent().TraceID().String() != senderTrace || req.Parent().SpanID().String() != senderSpan {
		t.Errorf("request span: kind %v, parent %v; want a server span under the sender's", req.SpanKind(), req.Parent())
	}
	want := "00-" + senderTrace + "-" + req.SpanContext().SpanID().String() + "-01"
	if tasks[0][0] != want || tasks[0][1] != "congo=t61rcWkgMzE" {
		t.Errorf("task trace context %q, want %s with the sender's tracestate", tasks[0], want)
	}
	attrs := map[string]string{}
	for _, kv := range req.Attributes() {
		attrs[string(kv.Key)] = kv.Value.Emit()
	}
	for k, v := range map[string]string{
		bus.AttrWebhook: "traced", bus.AttrIncoming: `["items"]`, bus.AttrTasks: "2",
		bus.AttrRequestID: resp.Header().Get("X-Request-Id"), "http.response.status_code": "200", "http.request.method": "POST",
	} {
		if attrs[k] != v {
			t.Errorf("request span attribute %s = %q, want %q", k, attrs[k], v)
		}
	}
	for _, name := range []string{bus.SpanValidate, bus.SpanParse, bus.SpanPublish} {
		sp := byName[name]
		if sp == nil {
			t.Errorf("no %s span", name)
			continue
		}
		if sp.Parent().SpanID() != req.SpanContext().SpanID() {
			t.Errorf("%s span's parent is %s, want the request span %s", name, sp.Parent().SpanID(), req.SpanContext().SpanID())
		}
	}
}

// A refused request's span says why, and a 5xx marks it failed; the
// sender's secret is not among what it records.
func TestRefusedRequestSpan(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	s, _ := tracedServer(t)
	s.SetTracerProvider(tp)
	req := httptest.NewRequest(http.MethodPost, "/webhooks/traced", strings.NewReader(`{"items":[]}`))
	req.Header.Set("X-Token", "wrong-t0ken-value")
	s.Handler().ServeHTTP(httptest.NewRecorder(), req)
	var found bool
	for _, sp := range rec.Ended() {
		for _, kv := range sp.Attributes() {
			if strings.Contains(kv.Value.Emit(), "t0ken-value") {
				t.Errorf("span %s records the token: %s=%s", sp.Name(), kv.Key, kv.Value.Emit())
			}
			if sp.Name() == bus.SpanRequest && kv.Key == "http.response.status_code" {
				found = true
				if kv.Value.AsInt64() != http.StatusUnauthorized {
					t.Errorf("request span status %d, want 401", kv.Value.AsInt64())
				}
			}
		}
	}
	if !found {
		t.Errorf("no request span with a status among %d spans", len(rec.Ended()))
	}
}

// Whatever a sender puts in traceparent and tracestate, the task gets a
// valid traceparent and a tracestate that parses and fits maxTraceState;
// the sender's trace id is kept only from a traceparent that parses.
func FuzzTraceContext(f *testing.F) {
	f.Add("00-"+senderTrace+"-"+senderSpan+"-01", "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")
	f.Add("01-"+senderTrace+"-"+senderSpan+"-03-extra", "a=1,a=2")
	f.Add("ff-"+senderTrace+"-"+senderSpan+"-01", "")
	f.Add("00-"+senderTrace+"-"+senderSpan+"-01", strings.Repeat("k=v,", 40))
	f.Fuzz(func(t *testing.T, traceparent, tracestate string) {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/x", nil)
		req.Header["Traceparent"] = []string{traceparent}
		req.Header["Tracestate"] = []string{tracestate}
		rt := tracer{}.begin(req, "x")
		if !validTraceparent.MatchString(rt.parent) {
			t.Fatalf("traceparent %q for %q", rt.parent, traceparent)
		}
		if len(rt.state) > maxTraceState {
			t.Fatalf("tracestate of %d characters", len(rt.state))
		}
		if rt.state != "" {
			if _, err := trace.ParseTraceState(rt.state); err != nil {
				t.Fatalf("tracestate %q does not parse: %v", rt.state, err)
			}
		}
		sc := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), propagation.HeaderCarrier(req.Header)))
		if sc.IsValid() != (rt.parent[3:35] == sc.TraceID().String()) {
			t.Fatalf("traceparent %q: task %q, OpenTelemetry reads %v", traceparent, rt.parent, sc)
		}
	})
}
