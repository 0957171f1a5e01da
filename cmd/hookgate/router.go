package main

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
	"github.com/hookgate/hookgate/router"
)

// startRouter starts delivery of the configured routes (with no routes
// there is nothing to run until a reload adds some); the Supervisor
// replaces the Router when a reload changes them.
func startRouter(ctx context.Context, cfg *configs.Config, b *bus.Bus, log *zap.Logger, pm *processMetrics, attempts *bus.LogWriter, tp trace.TracerProvider) (*router.Supervisor, error) {
	s, err := router.StartSupervisor(ctx, cfg, b.JetStream(), log.Named("router"), version,
		router.WithMetrics(pm.router), router.WithCircuits(pm.circuits), router.WithAttemptLog(attempts), router.WithMaxPayload(b.MaxPayload()), router.WithTracerProvider(tp))
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	return s, nil
}
