package admin

import (
	"context"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/bus"
	"github.com/hookgate/hookgate/router"
)

// routerCounts and gatewayReplay wire the router and the gateway into
// Options in tests, as cmd/hookgate/admin.go does.
type routerCounts struct{ m *router.Metrics }

func (r routerCounts) Counts(route, outgoing string) Counts {
	return Counts(r.m.Counts(route, outgoing))
}

type routerCircuits struct{ c *router.Circuits }

func (r routerCircuits) Circuit(route, outgoing string) (Circuit, bool) {
	v, ok := r.c.Circuit(route, outgoing)
	return Circuit(v), ok
}

func gatewayReplay(srv *gateway.Server) func(context.Context, *bus.RequestLogEntry) ReplayResult {
	return func(ctx context.Context, e *bus.RequestLogEntry) ReplayResult {
		return ReplayResult(srv.Replay(ctx, e))
	}
}
