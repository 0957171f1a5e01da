package router

import (
	"errors"
	"fmt"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Delivery outcomes, the outcome label of hookgate_deliveries_total.
const (
	OutcomeDelivered = "delivered" // the outgoing system accepted the task
	OutcomeRetry     = "retry"     // the attempt failed; another is scheduled
	OutcomeDead      = "dead"      // the task went to the dead letters
)

// Metrics are the router's Prometheus collectors (SPEC §9). Build them with
// NewMetrics on the registry the process serves on /metrics and hand them
// to New with WithMetrics.
type Metrics struct {
	deliveries *prometheus.CounterVec   // route, outgoing, outcome
	duration   *prometheus.HistogramVec // route, outgoing
	dead       *prometheus.CounterVec   // route, outgoing
	circuit    *prometheus.GaugeVec     // route, outgoing

	mu    sync.Mutex
	pairs map[[2]string]*pairMetrics // (route, outgoing) → children
}

// NewMetrics creates the router's collectors and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	if reg == nil {
		return nil, errors.New("router.NewMetrics: a prometheus.Registerer is required")
	}
	m := &Metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookgate_deliveries_total",
			Help: "Delivery attempts settled, by route, outgoing configuration and outcome (delivered, retry, dead).",
		}, []string{"route", "outgoing", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hookgate_delivery_duration_seconds",
			Help: "Time of one HTTP delivery attempt, rate-limit waits included, by route and outgoing configuration.",
			// Outgoing timeouts default to 10s and may be longer.
			Buckets: append(prometheus.DefBuckets, 30, 60),
		}, []string{"route", "outgoing"}),
		dead: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookgate_dead_letters_total",
			Help: "Tasks stored as dead letters, by route and outgoing configuration.",
		}, []string{"route", "outgoing"}),
		circuit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hookgate_circuit_open",
			Help: "1 while the circuit breaker of a route and outgoing configuration is open or half open (no deliveries but a probe), 0 while closed.",
		}, []string{"route", "outgoing"}),
		pairs: map[[2]string]*pairMetrics{},
	}
	for _, c := range []prometheus.Collector{m.deliveries, m.duration, m.dead, m.circuit} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("router metrics: %w; use one registry per process", err)
		}
	}
	return m, nil
}

// Counts are what this process settled for one (route, outgoing) pair since
// it started.
type Counts struct {
	Delivered uint64 // accepted by the outgoing system
	Failed    uint64 // failed attempts that were scheduled again
	Dead      uint64 // dead letters stored
}

// Counts reads the counters of the pair (route, outgoing); a nil *Metrics
// or a pair no Router built counts zero.
func (m *Metrics) Counts(route, outgoing string) Counts {
	if m == nil {
		return Counts{}
	}
	m.mu.Lock()
	pm := m.pairs[[2]string{route, outgoing}]
	m.mu.Unlock()
	if pm == nil {
		return Counts{}
	}
	return Counts{Delivered: value(pm.delivered), Failed: value(pm.retry), Dead: value(pm.dead)}
}

func value(c prometheus.Counter) uint64 {
	var d dto.Metric
	if c.Write(&d) != nil {
		return 0
	}
	return uint64(d.GetCounter().GetValue())
}

// pairMetrics are one pair's label children, resolved in New so that a
// delivery costs no label hashing.
type pairMetrics struct {
	delivered, retry, deadOutcome, dead prometheus.Counter
	duration                            prometheus.Observer
	circuit                             prometheus.Gauge
}

// forPair resolves (and remembers, for Counts) the children of one pair.
func (m *Metrics) forPair(route, outgoing string) *pairMetrics {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	key := [2]string{route, outgoing}
	if pm := m.pairs[key]; pm != nil {
		return pm
	}
	pm := &pairMetrics{
		delivered:   m.deliveries.WithLabelValues(route, outgoing, OutcomeDelivered),
		retry:       m.deliveries.WithLabelValues(route, outgoing, OutcomeRetry),
		deadOutcome: m.deliveries.WithLabelValues(route, outgoing, OutcomeDead),
		dead:        m.dead.WithLabelValues(route, outgoing),
		duration:    m.duration.WithLabelValues(route, outgoing),
		circuit:     m.circuit.WithLabelValues(route, outgoing),
	}
	m.pairs[key] = pm
	return pm
}

// retain deletes the series and counts of every pair keep refuses.
func (m *Metrics) retain(keep func(route, outgoing string) bool) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for key := range m.pairs {
		if keep(key[0], key[1]) {
			continue
		}
		delete(m.pairs, key)
		m.deliveries.DeletePartialMatch(prometheus.Labels{"route": key[0], "outgoing": key[1]})
		m.duration.DeleteLabelValues(key[0], key[1])
		m.dead.DeleteLabelValues(key[0], key[1])
		m.circuit.DeleteLabelValues(key[0], key[1])
	}
}

// attempt records the duration of one HTTP attempt.
func (pm *pairMetrics) attempt(seconds float64) {
	if pm != nil {
		pm.duration.Observe(seconds)
	}
}

func (pm *pairMetrics) delivery() {
	if pm != nil {
		pm.delivered.Inc()
	}
}

func (pm *pairMetrics) retried() {
	if pm != nil {
		pm.retry.Inc()
	}
}

func (pm *pairMetrics) deadLettered() {
	if pm != nil {
		pm.deadOutcome.Inc()
		pm.dead.Inc()
	}
}

// circuitGauge is the pair's hookgate_circuit_open; nil without metrics.
func (pm *pairMetrics) circuitGauge() prometheus.Gauge {
	if pm == nil {
		return nil
	}
	return pm.circuit
}
