package router

import (
	"context"
	"net/http"

	otelattr "go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate/gateway/bus"
)

// W3C Trace Context on deliveries (SPEC §12): every attempt is a child of
// the task's ce-traceparent and sends its own traceparent (same trace id,
// a span id of its own) and the task's tracestate. With a TracerProvider
// the attempt is a recorded client span; without one only its ids exist.

// WithTracerProvider makes the Router record a span per delivery attempt
// in tp; nil records none. Every attempt sends traceparent either way.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tracerProvider = tp }
}

func tracerOf(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		return nil
	}
	return tp.Tracer(bus.TracerName)
}

// attemptTrace is what an attempt's trace context comes from: the task's
// and where the attempt goes. send reads it from the context.
type attemptTrace struct {
	tracer   trace.Tracer      // nil: no span recorded
	parent   trace.SpanContext // from ce-traceparent; invalid: a new trace
	route    string
	webhook  string
	incoming string
	taskID   string
	attempt  int
}

type attemptTraceKey struct{}

// taskCarrier reads a task's ce-traceparent and ce-tracestate as the
// traceparent and tracestate W3C Trace Context parses.
type taskCarrier struct{ h headerGetter }

func (c taskCarrier) Get(key string) string {
	switch key {
	case "traceparent":
		return c.h.Get(bus.HeaderCETraceParent)
	case "tracestate":
		return c.h.Get(bus.HeaderCETraceState)
	}
	return ""
}

func (taskCarrier) Set(string, string) {}
func (taskCarrier) Keys() []string     { return nil }

// traceAttempt puts the trace context of a task's attempt on ctx, for send.
func (r *Router) traceAttempt(ctx context.Context, p *pair, h headerGetter, id string, attempt int) context.Context {
	parent := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), taskCarrier{h}))
	return context.WithValue(ctx, attemptTraceKey{}, &attemptTrace{
		tracer: r.tracer, parent: parent, route: p.route.name,
		webhook: h.Get(bus.HeaderCEWebhook), incoming: h.Get(bus.HeaderCEIncoming),
		taskID: id, attempt: attempt,
	})
}

// startAttempt starts the attempt's span, or without spans makes its span
// context, on ctx; the returned func ends it with the attempt's outcome.
// A context traceAttempt did not fill starts a new trace.
func (d *destination) startAttempt(ctx context.Context) (context.Context, func(status int, derr *deliveryError)) {
	at, _ := ctx.Value(attemptTraceKey{}).(*attemptTrace)
	if at == nil {
		at = &attemptTrace{}
	}
	if at.tracer == nil {
		tid, flags := at.parent.TraceID(), at.parent.TraceFlags()
		if !at.parent.IsValid() {
			tid, flags = bus.NewTraceID(), trace.FlagsSampled
		}
		sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: bus.NewSpanID(), TraceFlags: flags, TraceState: at.parent.TraceState()})
		return trace.ContextWithSpanContext(ctx, sc), func(int, *deliveryError) {}
	}
	if at.parent.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, at.parent)
	}
	ctx, span := at.tracer.Start(ctx, bus.SpanDeliver, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		otelattr.String(bus.AttrRoute, at.route),
		otelattr.String(bus.AttrOutgoing, d.cfg.Name),
		otelattr.String(bus.AttrWebhook, at.webhook),
		otelattr.String(bus.AttrIncoming, at.incoming),
		otelattr.String(bus.AttrTaskID, at.taskID),
		otelattr.Int(bus.AttrAttempt, at.attempt),
		otelattr.String("http.request.method", d.cfg.Method),
		otelattr.String("server.address", d.host),
	))
	return ctx, func(status int, derr *deliveryError) {
		if status > 0 {
			span.SetAttributes(otelattr.Int("http.response.status_code", status))
		}
		if derr != nil {
			// Redacted already: the text of hookgate-error.
			span.SetAttributes(otelattr.String(bus.AttrError, derr.Error()))
			span.SetStatus(codes.Error, derr.Error())
		}
		span.End()
	}
}

// injectTrace sets the attempt's traceparent and tracestate on its request,
// over any outgoing header of those names: they belong to the attempt.
func injectTrace(ctx context.Context, h http.Header) {
	propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(h))
}
