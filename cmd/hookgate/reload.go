package main

import (
	"errors"
	"fmt"
	"sync"

	"go.uber.org/zap"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/router"
)

// reloader loads the configuration again for SIGHUP, --watch and
// POST /api/v1/reload. One reload runs at a time, so that two triggers
// close together swap in their runtimes in the order they loaded them.
type reloader struct {
	mu      sync.Mutex
	path    string
	srv     *gateway.Server
	routes  *router.Supervisor // nil: the gateway alone is reloaded
	metrics *gateway.Metrics
	log     *zap.Logger
}

// reload swaps in a new runtime only when the whole new config is valid
// and its routes (when they changed) are running; otherwise the old
// gateway and router keep serving, and the problems are logged and
// returned. The router goes first: it is the step that can still fail
// after the config is known to be valid.
func (r *reloader) reload(why string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg, err := configs.Load(r.path)
	if err == nil {
		var rt *gateway.Runtime
		if rt, err = gateway.Build(cfg); err == nil {
			restarted := false
			if r.routes != nil {
				restarted, err = r.routes.Reload(cfg, cfg.Server.ShutdownTimeout)
			}
			if err == nil {
				r.srv.Swap(rt)
				r.metrics.Reloaded(nil)
				r.log.Info("config reloaded", zap.String("trigger", why), zap.Int("webhooks", len(cfg.Webhooks)),
					zap.Int("routes", len(cfg.Routes)), zap.Bool("router_restarted", restarted))
				return nil
			}
			err = fmt.Errorf("router: %w", err)
		}
		// Load masks its own problems; these come from a valid config.
		err = errors.New(cfg.Redact(err.Error()))
	}
	r.metrics.Reloaded(err)
	r.log.Error("config reload refused; the previous config keeps serving", zap.String("trigger", why), zap.Error(err))
	return err
}
