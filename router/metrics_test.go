package router

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/hookgate/hookgate/configs"
)

// A Router built for a new config stops exporting the pairs that config
// removed, and keeps those it still has, disabled ones included.
func TestANewConfigDropsTheSeriesOfRemovedPairs(t *testing.T) {
	js := startJS(t)
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	a, b := testOutgoing("a", "http://127.0.0.1:1/a"), testOutgoing("b", "http://127.0.0.1:1/b")
	build := func(cfg *configs.Config) {
		t.Helper()
		if _, err := New(cfg, js, zap.NewNop(), "test", WithMetrics(m)); err != nil {
			t.Fatal(err)
		}
	}
	first := testConfig(configs.Route{}, a, b)
	first.Routes = append(first.Routes, configs.Route{Name: "paused", Incoming: "orders", Outgoing: []string{"a"}})
	build(first)
	m.forPair("r", "b").delivery()
	m.forPair("paused", "a").delivery()

	// r loses b; paused is disabled but still configured.
	second := testConfig(configs.Route{Outgoing: []string{"a"}}, a, b)
	second.Routes = append(second.Routes, configs.Route{Name: "paused", Incoming: "orders", Outgoing: []string{"a"}, Disabled: true})
	build(second)

	series := func(route, outgoing string) int {
		n := 0
		for _, name := range []string{"hookgate_deliveries_total", "hookgate_dead_letters_total", "hookgate_delivery_duration_seconds"} {
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatal(err)
			}
			for _, mf := range mfs {
				if mf.GetName() != name {
					continue
				}
				for _, metric := range mf.GetMetric() {
					labels := map[string]string{}
					for _, l := range metric.GetLabel() {
						labels[l.GetName()] = l.GetValue()
					}
					if labels["route"] == route && labels["outgoing"] == outgoing {
						n++
					}
				}
			}
		}
		return n
	}
	if n := series("r", "b"); n != 0 {
		t.Errorf("the removed pair r/b still exports %d series", n)
	}
	if c := m.Counts("r", "b"); c != (Counts{}) {
		t.Errorf("the removed pair r/b still counts %+v", c)
	}
	if n := series("r", "a"); n != 5 { // 3 outcomes, dead letters, duration
		t.Errorf("the kept pair r/a exports %d series, want 5", n)
	}
	if c := m.Counts("paused", "a"); c.Delivered != 1 {
		t.Errorf("the disabled pair paused/a counts %+v, want its delivery kept", c)
	}
	if n := series("paused", "a"); n != 5 {
		t.Errorf("the disabled pair paused/a exports %d series, want 5", n)
	}
}
