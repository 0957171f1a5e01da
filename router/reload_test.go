package router

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap/zaptest"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
)

func TestSameRouting(t *testing.T) {
	base := func() *configs.Config {
		cfg := testConfig(configs.Route{Pos: configs.Pos{File: "a.yaml", Line: 10}}, testOutgoing("erp", "http://127.0.0.1:1/"))
		cfg.AuthProfiles = []configs.AuthProfile{{Name: "basic", Type: "basic", Username: "u", Password: "p", AllowedDomains: []string{"127.0.0.1"}}}
		cfg.Webhooks = []configs.Webhook{{Name: "Orders", Incoming: "orders"}}
		return cfg
	}
	for _, tc := range []struct {
		name   string
		change func(*configs.Config)
		same   bool
	}{
		{"nothing changed", func(*configs.Config) {}, true},
		{"the route moved in its file", func(c *configs.Config) { c.Routes[0].Pos.Line = 42 }, true},
		{"a webhook changed", func(c *configs.Config) { c.Webhooks[0].Name = "Other" }, true},
		{"an incoming no route reads was added", func(c *configs.Config) {
			c.Incoming = append(c.Incoming, configs.Incoming{Name: "audit"})
		}, true},
		{"an outgoing URL changed", func(c *configs.Config) { c.Outgoing[0].URL = "http://127.0.0.1:2/" }, false},
		{"an auth profile's secret changed", func(c *configs.Config) { c.AuthProfiles[0].Password = "q" }, false},
		{"a route filter changed", func(c *configs.Config) {
			v := "released"
			c.Routes[0].Filter = []configs.Condition{{Path: "status", Equals: &v}}
		}, false},
		{"a route was disabled", func(c *configs.Config) { c.Routes[0].Disabled = true }, false},
		{"the routed incoming's subject changed", func(c *configs.Config) { c.Incoming[0].Subject = "tasks.other" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next := base()
			tc.change(next)
			if got := SameRouting(base(), next); got != tc.same {
				t.Errorf("SameRouting = %v, want %v", got, tc.same)
			}
		})
	}
	if SameRouting(nil, base()) || !SameRouting(nil, nil) {
		t.Error("a nil config is the same only as another nil")
	}
}

// startSupervisor starts a Supervisor stopped by t.Cleanup.
func startSupervisor(t *testing.T, cfg *configs.Config, js jetstream.JetStream) *Supervisor {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := StartSupervisor(ctx, cfg, js, zaptest.NewLogger(t), "test")
	if err != nil {
		t.Fatalf("StartSupervisor: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return s
}

func reload(t *testing.T, s *Supervisor, cfg *configs.Config) bool {
	t.Helper()
	restarted, err := s.Reload(cfg, 10*time.Second)
	if err != nil {
		t.Fatalf("Reload: %v", err)
	}
	return restarted
}

func consumerInfo(t *testing.T, js jetstream.JetStream, route, outgoing string) *jetstream.ConsumerInfo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := js.Consumer(ctx, testStream, bus.ConsumerName(route, outgoing))
	if err != nil {
		t.Fatalf("consumer of %s/%s: %v", route, outgoing, err)
	}
	return c.CachedInfo()
}

func TestReloadDeliversAChangedURLToTheNewReceiverAndUpdatesTheConsumer(t *testing.T) {
	js := startJS(t)
	before, after := newReceiver(t, nil), newReceiver(t, nil)
	s := startSupervisor(t, testConfig(configs.Route{}, testOutgoing("erp", before.URL)), js)
	publishTask(t, js, "tasks.orders", "task-0", `{"n":0}`)
	before.wait(t, 1)

	out := testOutgoing("erp", after.URL)
	out.Concurrency = 2
	if !reload(t, s, testConfig(configs.Route{}, out)) {
		t.Fatal("a changed URL did not restart the router")
	}
	if got := consumerInfo(t, js, "r", "erp").Config.MaxAckPending; got != 2 {
		t.Errorf("consumer MaxAckPending %d after reload, want the new concurrency 2", got)
	}
	publishTask(t, js, "tasks.orders", "task-1", `{"n":1}`)
	if got := after.wait(t, 1)[0].header.Get("Idempotency-Key"); got != "task-1" {
		t.Errorf("new receiver got %q, want task-1", got)
	}
	settled(t, js, "r", "erp")
	if n := before.count(); n != 1 {
		t.Errorf("old receiver got %d requests, want 1 (nothing after the reload)", n)
	}
}

func TestReloadWithTheSameRoutingKeepsTheRunningRouter(t *testing.T) {
	js := startJS(t)
	rc := newReceiver(t, nil)
	cfg := testConfig(configs.Route{}, testOutgoing("erp", rc.URL))
	s := startSupervisor(t, cfg, js)
	running := s.run
	next := testConfig(configs.Route{Pos: configs.Pos{File: "moved.yaml", Line: 7}}, testOutgoing("erp", rc.URL))
	next.Webhooks = []configs.Webhook{{Name: "New", Incoming: "orders"}}
	if reload(t, s, next) {
		t.Error("Reload restarted the router though the routing is the same")
	}
	if s.run != running {
		t.Error("the running Router was replaced")
	}
	publishTask(t, js, "tasks.orders", "task-0", `{}`)
	rc.wait(t, 1)
}

func TestReloadAddsARouteToAConfigWithoutRoutes(t *testing.T) {
	js := startJS(t)
	rc := newReceiver(t, nil)
	empty := testConfig(configs.Route{}, testOutgoing("erp", rc.URL))
	empty.Routes = nil
	s := startSupervisor(t, empty, js)
	if s.run != nil {
		t.Fatal("a Router runs without routes")
	}
	if !reload(t, s, testConfig(configs.Route{}, testOutgoing("erp", rc.URL))) {
		t.Fatal("adding a route did not start a router")
	}
	publishTask(t, js, "tasks.orders", "task-0", `{}`)
	rc.wait(t, 1)
}

func TestRefusedReloadKeepsTheOldRouterDelivering(t *testing.T) {
	js := startJS(t)
	rc, other := newReceiver(t, nil), newReceiver(t, nil)
	cfg := testConfig(configs.Route{}, testOutgoing("erp", rc.URL))
	for _, tc := range []struct {
		name      string
		next      *configs.Config
		restarted bool
	}{
		{"the new router cannot be built", testConfig(configs.Route{Filter: []configs.Condition{{Path: "a", Matches: "("}}},
			testOutgoing("erp", other.URL)), false},
		// nats-server refuses a consumer description over 4KiB, and the
		// description names the route: the new Router builds, then fails
		// to start on its second pair.
		{"the new router does not start", func() *configs.Config {
			c := testConfig(configs.Route{}, testOutgoing("erp", other.URL))
			c.Routes = append(c.Routes, configs.Route{Name: strings.Repeat("long", 1100), Incoming: "orders", Outgoing: []string{"erp"}})
			return c
		}(), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startSupervisor(t, cfg, js)
			restarted, err := s.Reload(tc.next, 5*time.Second)
			if err == nil {
				t.Fatal("Reload succeeded")
			}
			if restarted != tc.restarted {
				t.Errorf("restarted = %v, want %v", restarted, tc.restarted)
			}
			t.Logf("refused: %v", err)
			n := rc.count()
			publishTask(t, js, "tasks.orders", "task-"+tc.name, `{}`)
			if got := rc.wait(t, n+1)[n].header.Get("Idempotency-Key"); got != "task-"+tc.name {
				t.Errorf("old receiver got %q", got)
			}
			if f := consumerInfo(t, js, "r", "erp").Config.FilterSubjects; !slices.Contains(f, "tasks.orders") {
				t.Errorf("consumer filters %v, want the old config's tasks.orders back", f)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := s.Stop(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
	if n := other.count(); n != 0 {
		t.Errorf("the refused config's receiver got %d requests", n)
	}
}

func TestReloadLetsDeliveriesUnderWayFinishAndLosesNothing(t *testing.T) {
	js := startJS(t)
	rc, release := heldReceiver(t)
	// One at a time: task-1 cannot reach the old Router while task-0 holds it.
	old := testOutgoing("erp", rc.URL)
	old.Concurrency = 1
	s := startSupervisor(t, testConfig(configs.Route{}, old), js)
	publishTask(t, js, "tasks.orders", "task-0", `{}`)
	rc.wait(t, 1)

	out := testOutgoing("erp", rc.URL)
	out.Headers = []configs.KeyValue{{Key: "X-Config", Value: "2"}}
	reloaded := make(chan error, 1)
	go func() {
		_, err := s.Reload(testConfig(configs.Route{}, out), 10*time.Second)
		reloaded <- err
	}()
	// Published while the old Router stops: it waits in JetStream.
	publishTask(t, js, "tasks.orders", "task-1", `{}`)
	if err := afterRelease(t, "Reload", reloaded, release); err != nil {
		t.Fatal(err)
	}
	got := rc.wait(t, 2)
	settled(t, js, "r", "erp")
	if rc.count() != 2 || got[1].header.Get("Idempotency-Key") != "task-1" || got[1].header.Get("X-Config") != "2" {
		t.Errorf("after the reload: %d requests, the second %q with X-Config %q; want task-1 once, by the new config",
			rc.count(), got[1].header.Get("Idempotency-Key"), got[1].header.Get("X-Config"))
	}
}

func TestReloadLeavesTheConsumerOfARemovedPair(t *testing.T) {
	js := startJS(t)
	rc := newReceiver(t, nil)
	s := startSupervisor(t, testConfig(configs.Route{}, testOutgoing("erp", rc.URL), testOutgoing("wms", rc.URL)), js)
	reload(t, s, testConfig(configs.Route{}, testOutgoing("erp", rc.URL)))
	info := consumerInfo(t, js, "r", "wms") // fails the test when deleted
	publishTask(t, js, "tasks.orders", "task-0", `{}`)
	rc.wait(t, 1)
	settled(t, js, "r", "erp")
	if n := rc.count(); n != 1 {
		t.Errorf("%d requests, want 1: the removed pair delivers nothing", n)
	}
	if info.Name != bus.ConsumerName("r", "wms") {
		t.Errorf("consumer %q", info.Name)
	}
}

func TestReplaySubjectReachesOnlyItsPair(t *testing.T) {
	js := startJS(t)
	erp, wms := newReceiver(t, nil), newReceiver(t, nil)
	cfg := testConfig(configs.Route{}, testOutgoing("erp", erp.URL), testOutgoing("wms", wms.URL))
	// A consumer made before replays existed filters the incoming only;
	// Start must update it.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	old := consumerConfig(bus.ConsumerName("r", "erp"), "r", "erp", "tasks.orders", cfg.Outgoing[0])
	old.FilterSubjects, old.FilterSubject = nil, "tasks.orders"
	if _, err := js.CreateOrUpdateConsumer(ctx, testStream, old); err != nil {
		t.Fatal(err)
	}
	startRouter(t, cfg, js)
	if f := consumerInfo(t, js, "r", "erp").Config.FilterSubjects; !slices.Equal(f, []string{"tasks.orders", bus.ReplaySubject("r", "erp")}) {
		t.Errorf("consumer filters %v after Start, want the incoming and the replay subject", f)
	}
	publishTask(t, js, bus.ReplaySubject("r", "erp"), "task-0", `{}`)
	if got := erp.wait(t, 1)[0].header.Get("Idempotency-Key"); got != "task-0" {
		t.Errorf("erp got %q", got)
	}
	settled(t, js, "r", "erp")
	settled(t, js, "r", "wms")
	if n := wms.count(); n != 0 {
		t.Errorf("wms got %d requests for a replay meant for erp", n)
	}
}
