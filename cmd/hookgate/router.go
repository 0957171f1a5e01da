package main

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
	"github.com/hookgate/hookgate/router"
)

// startRouter starts delivery of the configured routes; with no routes
// there is nothing to run.
func startRouter(ctx context.Context, cfg *configs.Config, b *bus.Bus, log *zap.Logger, m *router.Metrics) (stopper, error) {
	if len(cfg.Routes) == 0 {
		return nil, nil
	}
	r, err := router.New(cfg, b.JetStream(), log.Named("router"), version, router.WithMetrics(m))
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	if err := r.Start(ctx); err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	return r, nil
}
