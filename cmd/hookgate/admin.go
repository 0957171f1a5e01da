package main

import (
	"context"
	"fmt"
	"net"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/zap"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/admin"
	"github.com/hookgate/hookgate/gateway/bus"
	"github.com/hookgate/hookgate/router"
)

// processMetrics is the process's one registry and the components'
// collectors on it; /metrics serves the registry.
type processMetrics struct {
	registry *prometheus.Registry
	gateway  *gateway.Metrics
	router   *router.Metrics
	// circuits are the routers' breakers, kept across reloads and read
	// by the admin API.
	circuits *router.Circuits
}

func newProcessMetrics() (*processMetrics, error) {
	reg := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	gm, err := gateway.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	rm, err := router.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	return &processMetrics{registry: reg, gateway: gm, router: rm, circuits: router.NewCircuits()}, nil
}

// countLogs exports, per log writer (label log), the entries it dropped
// because its queue was full and those JetStream did not store.
func (pm *processMetrics) countLogs(writers map[string]*bus.LogWriter) error {
	for name, w := range writers {
		for _, c := range []prometheus.Collector{
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name:        "hookgate_log_entries_dropped_total",
				Help:        "Request-log and delivery-attempt entries dropped because the queue to " + bus.LogStream + " was full.",
				ConstLabels: prometheus.Labels{"log": name},
			}, func() float64 { return float64(w.Dropped()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name:        "hookgate_log_entries_failed_total",
				Help:        "Request-log and delivery-attempt entries JetStream did not store.",
				ConstLabels: prometheus.Labels{"log": name},
			}, func() float64 { return float64(w.Failed()) }),
		} {
			if err := pm.registry.Register(c); err != nil {
				return fmt.Errorf("metrics: %w", err)
			}
		}
	}
	return nil
}

// listenAdmin builds the admin server and binds admin.listen; with
// admin.listen "" there is no admin server (nil, nil, nil).
func listenAdmin(cfg *configs.Config, srv *gateway.Server, b *bus.Bus, pm *processMetrics, rl *reloader, log *zap.Logger) (*admin.Server, net.Listener, error) {
	if cfg.Admin.Listen == "" {
		return nil, nil, nil
	}
	a, err := admin.New(admin.Options{
		Listen:     cfg.Admin.Listen,
		Token:      cfg.Admin.Token,
		Gatherer:   pm.registry,
		Current:    func() *configs.Config { return srv.Runtime().Config },
		JetStream:  b.JetStream(),
		Stream:     cfg.NATS.Stream.Name,
		Deliveries: routerCounts{pm.router},
		Circuits:   routerCircuits{pm.circuits},
		Reload:     func(context.Context) error { return rl.reload("admin API") },
		Replay:     gatewayReplay(srv),
		Log:        log.Named("admin"),
	})
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", cfg.Admin.Listen)
	if err != nil {
		return nil, nil, fmt.Errorf("admin.listen %q: %w", cfg.Admin.Listen, err)
	}
	return a, ln, nil
}

// routerCounts is the router's counters as the admin listener reads them.
type routerCounts struct{ m *router.Metrics }

func (r routerCounts) Counts(route, outgoing string) admin.Counts {
	return admin.Counts(r.m.Counts(route, outgoing))
}

// routerCircuits is the router's breakers as the admin listener reads them.
type routerCircuits struct{ c *router.Circuits }

func (r routerCircuits) Circuit(route, outgoing string) (admin.Circuit, bool) {
	v, ok := r.c.Circuit(route, outgoing)
	return admin.Circuit(v), ok
}

// gatewayReplay is the gateway's replay as the admin listener calls it.
func gatewayReplay(srv *gateway.Server) func(context.Context, *bus.RequestLogEntry) admin.ReplayResult {
	return func(ctx context.Context, e *bus.RequestLogEntry) admin.ReplayResult {
		return admin.ReplayResult(srv.Replay(ctx, e))
	}
}
