package gateway

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate/gateway/bus"
	"github.com/hookgate/hookgate/validators"
)

// W3C Trace Context (SPEC §12). Every request gets a trace context, whether
// or not spans are exported: the sender's traceparent continued, or a new
// trace. Its traceparent (hookgate's request as the parent) and tracestate
// go on every task as ce-traceparent and ce-tracestate.
//
// Without an exporter no span exists: the ids come from the runtime's fast
// random source and the traceparent is formatted here, so the ingest path
// pays a header lookup, three random numbers and one 55-byte string
// (BenchmarkIngestJSON1KiBTracing). With one, the request is a span of the
// SDK's, with child spans for the validators, the parsing and the
// publishing.

// maxTraceState bounds the tracestate copied onto every task: W3C Trace
// Context asks a vendor to pass on at least 512 characters, and one
// request's header must not be stored once per item without a bound
// (SPEC §11).
const maxTraceState = 512

// tracer is the server's tracing: nil records no spans (the trace context
// is still made and propagated).
type tracer struct {
	t trace.Tracer
	// off leaves trace context out altogether; only the benchmarks set it,
	// to measure the ingest path as it was before tracing.
	off bool
}

// requestTrace is one request's trace context: what its tasks carry and,
// when spans are exported, the request's span.
type requestTrace struct {
	parent string // ce-traceparent; "" only with tracer.off
	state  string // ce-tracestate; "" when none
	ctx    context.Context
	span   trace.Span // nil: no spans recorded
	t      trace.Tracer
}

// begin continues the request's trace, or starts one.
func (tr tracer) begin(req *http.Request, identifier string) requestTrace {
	if tr.off {
		return requestTrace{}
	}
	h := req.Header
	var sc trace.SpanContext
	if _, ok := h["Traceparent"]; ok {
		sc = remoteContext(h)
	}
	if tr.t == nil {
		return requestTrace{parent: childTraceparent(sc), state: traceState(sc)}
	}
	ctx := req.Context()
	if sc.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, sc)
	}
	ctx, span := tr.t.Start(ctx, bus.SpanRequest, trace.WithSpanKind(trace.SpanKindServer))
	span.SetAttributes(attribute.String(bus.AttrWebhook, identifier), attribute.String("http.request.method", req.Method))
	own := span.SpanContext()
	return requestTrace{parent: bus.FormatTraceparent(own.TraceID(), own.SpanID(), own.TraceFlags()), state: traceState(own), ctx: ctx, span: span, t: tr.t}
}

// headerCarrier reads the trace context of a request's headers as
// W3C Trace Context asks: several tracestate fields are one list.
type headerCarrier http.Header

func (c headerCarrier) Get(key string) string {
	var vs []string
	switch key { // the propagator asks for these two; canonical without allocating
	case "traceparent":
		vs = c["Traceparent"]
	case "tracestate":
		vs = c["Tracestate"]
	default:
		vs = http.Header(c)[http.CanonicalHeaderKey(key)]
	}
	switch len(vs) {
	case 0:
		return ""
	case 1:
		return vs[0]
	}
	if key == "tracestate" {
		return strings.Join(vs, ",")
	}
	return vs[0]
}

func (c headerCarrier) Set(string, string) {}
func (c headerCarrier) Keys() []string     { return nil }

// remoteContext is the sender's trace context; invalid (a new trace) when
// its traceparent is malformed. A malformed tracestate is dropped alone, a
// long one cut to maxTraceState.
func remoteContext(h http.Header) trace.SpanContext {
	ctx := propagation.TraceContext{}.Extract(context.Background(), headerCarrier(h))
	sc := trace.SpanContextFromContext(ctx)
	if ts := sc.TraceState(); ts.Len() > 0 && len(ts.String()) > maxTraceState {
		sc = sc.WithTraceState(truncateTraceState(ts))
	}
	return sc
}

// truncateTraceState cuts a tracestate to maxTraceState characters as W3C
// Trace Context says: members longer than 128 characters go first, then
// members from the end.
func truncateTraceState(ts trace.TraceState) trace.TraceState {
	type member struct{ k, v string }
	var ms []member
	ts.Walk(func(k, v string) bool {
		if len(k)+1+len(v) <= 128 {
			ms = append(ms, member{k, v})
		}
		return true
	})
	for {
		var sb strings.Builder
		for i, m := range ms {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(m.k + "=" + m.v)
		}
		if sb.Len() <= maxTraceState {
			out, _ := trace.ParseTraceState(sb.String()) // members of a valid state
			return out
		}
		ms = ms[:len(ms)-1]
	}
}

func traceState(sc trace.SpanContext) string {
	if sc.TraceState().Len() == 0 {
		return ""
	}
	return sc.TraceState().String()
}

// childTraceparent is the traceparent of an unrecorded request span: the
// sender's trace id and flags with a new span id, or a new sampled trace
// when the sender sent none (or a malformed one).
func childTraceparent(parent trace.SpanContext) string {
	var tid trace.TraceID
	flags := trace.FlagsSampled
	if parent.IsValid() {
		tid, flags = parent.TraceID(), parent.TraceFlags()
	} else {
		tid = bus.NewTraceID()
	}
	return bus.FormatTraceparent(tid, bus.NewSpanID(), flags)
}

// step starts a child span of the request's; the returned func ends it,
// marking it failed when err is not nil. Without spans both cost nothing.
func (rt *requestTrace) step(name string) func(error) {
	if rt.span == nil {
		return endNothing
	}
	_, span := rt.t.Start(rt.ctx, name)
	return func(err error) {
		if err != nil {
			span.SetStatus(codes.Error, asRequestError(err).Message)
		}
		span.End()
	}
}

func endNothing(error) {}

// end ends the request's span with what the sender was answered: the
// webhook's incoming configurations, the status, the tasks stored and, for
// a refusal, its message (what the sender read too, never a secret). A 5xx
// marks the span failed, as OpenTelemetry's HTTP conventions do for servers.
func (rt *requestTrace) end(w *webhook, requestID string, status, tasks int, msg string) {
	if rt.span == nil {
		return
	}
	attrs := []attribute.KeyValue{
		attribute.String(bus.AttrRequestID, requestID),
		attribute.Int("http.response.status_code", status),
		attribute.Int(bus.AttrTasks, tasks),
	}
	if w != nil {
		names := make([]string, len(w.targets))
		for i := range w.targets {
			names[i] = w.targets[i].name
		}
		attrs = append(attrs, attribute.StringSlice(bus.AttrIncoming, names))
	}
	if msg != "" {
		attrs = append(attrs, attribute.String(bus.AttrError, msg))
	}
	rt.span.SetAttributes(attrs...)
	if status >= 500 {
		rt.span.SetStatus(codes.Error, msg)
	}
	rt.span.End()
}

// validate is validate in a span of its own when spans are recorded and
// the chain has validators of that kind (those reading the body or not).
func (rt *requestTrace) validate(ctx context.Context, wm *webhookMetrics, chain validators.Chain, r *validators.Request, needsBody bool) error {
	if rt.span == nil || !slices.ContainsFunc(chain, func(v validators.Validator) bool { return v.NeedsBody() == needsBody }) {
		return validate(ctx, wm, chain, r, needsBody)
	}
	_, span := rt.t.Start(rt.ctx, bus.SpanValidate, trace.WithAttributes(attribute.Bool("hookgate.validate.body", needsBody)))
	err := validate(ctx, wm, chain, r, needsBody)
	if err != nil {
		span.SetStatus(codes.Error, asRequestError(err).Message)
	}
	span.End()
	return err
}

// setTrace puts the request's trace context on a task template:
// ce-traceparent always, ce-tracestate when the request has one.
func (p *publication) setTrace(tm *taskTemplate) {
	setOrDelete(tm, slotTraceParent, bus.HeaderCETraceParent, p.trace.parent)
	setOrDelete(tm, slotTraceState, bus.HeaderCETraceState, p.trace.state)
}

func setOrDelete(tm *taskTemplate, slot int, name, v string) {
	if v == "" {
		delete(tm.msg.Header, name)
		return
	}
	tm.vals[slot] = v
	tm.msg.Header[name] = tm.vals[slot : slot+1 : slot+1]
}

// SetTracerProvider makes the server record a span per request in tp (nil:
// record none; the trace context is propagated either way). Call it before
// Serve; it is not safe while requests are served.
func (s *Server) SetTracerProvider(tp trace.TracerProvider) {
	s.tracer.t = nil
	if tp != nil {
		s.tracer.t = tp.Tracer(bus.TracerName)
	}
}
