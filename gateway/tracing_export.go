package gateway

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate/configs"
)

// Exporter sends the spans of a process to an OTLP/HTTP collector (SPEC
// §12). Spans wait in a bounded queue and go out in batches from a
// goroutine of their own: a slow or unreachable collector never holds up a
// request; when the queue is full, new spans are dropped.
type Exporter struct {
	tp  *sdktrace.TracerProvider
	url string // as it may be shown
}

// exportQueue bounds the spans waiting for the collector: about a second of
// a busy gateway's requests and deliveries, a few MiB at most.
const exportQueue = 4096

// NewExporter builds the span export of cfg (tracing.otlp_endpoint, else
// the OTEL_EXPORTER_OTLP_* variables getenv reads). With no endpoint it
// returns nil and nothing is exported. Nothing is sent before the first
// span ends, so a collector that is down does not keep serve from starting.
func NewExporter(ctx context.Context, cfg configs.Tracing, getenv func(string) string, version string) (*Exporter, error) {
	url, err := cfg.TracesURL(getenv)
	if err != nil || url == "" {
		return nil, err
	}
	// A batch the collector keeps refusing is given up well before the
	// queue behind it matters, and dropped.
	retry := otlptracehttp.RetryConfig{Enabled: true, InitialInterval: time.Second, MaxInterval: 5 * time.Second, MaxElapsedTime: 30 * time.Second}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(url), otlptracehttp.WithRetry(retry))
	if err != nil {
		return nil, fmt.Errorf("OTLP exporter to %s: %w", configs.RedactEndpoint(url), err)
	}
	// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, read last, override.
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "hookgate"), attribute.String("service.version", version)),
		resource.WithTelemetrySDK(),
		resource.WithFromEnv(),
	)
	if err != nil {
		return nil, fmt.Errorf("OTLP exporter: resource from OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithMaxQueueSize(exportQueue)),
		sdktrace.WithResource(res),
		// A sender's traceparent decides for its trace; sample_ratio for
		// the traces hookgate starts.
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SampleRatio))),
	)
	return &Exporter{tp: tp, url: configs.RedactEndpoint(url)}, nil
}

// TracerProvider is where spans are recorded; nil for a nil Exporter, so
// that callers can hand it on whether or not spans are exported.
func (e *Exporter) TracerProvider() trace.TracerProvider {
	if e == nil {
		return nil
	}
	return e.tp
}

// URL is where spans go, without credentials or query.
func (e *Exporter) URL() string { return e.url }

// Shutdown sends the spans still queued, within ctx, and stops exporting.
func (e *Exporter) Shutdown(ctx context.Context) error {
	if err := e.tp.Shutdown(ctx); err != nil {
		return fmt.Errorf("spans to %s not flushed: %w", e.url, err)
	}
	return nil
}
