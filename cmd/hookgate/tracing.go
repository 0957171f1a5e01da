package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"go.opentelemetry.io/otel"
	"go.uber.org/zap"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway"
)

// maxFlush bounds the flush of spans at shutdown: a collector that is down
// delays the exit by this much at most, once every other part has stopped.
const maxFlush = 5 * time.Second

// startTracing builds the span export (none without an endpoint, SPEC §12)
// and registers its flush. Trace context is propagated either way.
func (s *serving) startTracing() error {
	exp, err := gateway.NewExporter(s.ctx, s.cfg.Tracing, os.Getenv, version)
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	if exp == nil {
		return nil
	}
	// The exporter's errors may quote its headers or endpoint: masked like
	// every other secret of the config and of the OTEL_* variables.
	secrets := append(s.cfg.Secrets(), configs.OTLPSecrets(os.Getenv)...)
	log := s.log.Named("tracing")
	// OpenTelemetry reports failed exports to one process-wide handler;
	// it is set here, once, before the first span exists.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("span export failed; spans that do not fit the queue are dropped",
			zap.String("error", configs.MaskSecrets(err.Error(), secrets)))
	}))
	s.tracing = exp
	s.parts.started("tracing", func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, maxFlush)
		defer cancel()
		if err := exp.Shutdown(ctx); err != nil {
			return errors.New(configs.MaskSecrets(err.Error(), secrets))
		}
		return nil
	})
	log.Info("exporting spans", zap.String("url", exp.URL()))
	return nil
}
