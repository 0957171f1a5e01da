package gateway

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// UnknownWebhook is the webhook label of requests to an identifier no
// webhook has: one series for all of them, so that a scan of random paths
// cannot grow the metrics without bound. Identifiers cannot hold "(".
const UnknownWebhook = "(unknown)"

// Metrics are the gateway's Prometheus collectors (SPEC §9). Build them with
// NewMetrics on the registry the process serves on /metrics and hand them
// to Server.SetMetrics; a nil *Metrics records nothing.
type Metrics struct {
	requests    *prometheus.CounterVec   // webhook, status
	duration    *prometheus.HistogramVec // webhook
	published   *prometheus.CounterVec   // webhook, incoming
	validations *prometheus.CounterVec   // webhook, validator
	reloads     *prometheus.CounterVec   // result
	// load is the Server's, read when scraped, so that counting requests
	// and spooled bytes costs the request path nothing more.
	load atomic.Pointer[load]
}

// NewMetrics creates the gateway's collectors and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	if reg == nil {
		return nil, errors.New("gateway.NewMetrics: a prometheus.Registerer is required")
	}
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookgate_requests_total",
			Help: "Webhook requests answered, by webhook identifier and HTTP status.",
		}, []string{"webhook", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hookgate_request_duration_seconds",
			Help:    "Time from receiving a webhook request to its answer, by webhook identifier.",
			Buckets: prometheus.DefBuckets,
		}, []string{"webhook"}),
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookgate_tasks_published_total",
			Help: "Tasks acknowledged by JetStream, duplicates included, by webhook identifier and incoming configuration.",
		}, []string{"webhook", "incoming"}),
		validations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookgate_validation_failures_total",
			Help: "Requests refused by a pre_processor, by webhook identifier and the refusing validator's kind.",
		}, []string{"webhook", "validator"}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookgate_config_reloads_total",
			Help: "Configuration reloads, by result (success or failure).",
		}, []string{"result"}),
	}
	inFlight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hookgate_requests_in_flight",
		Help: "Webhook requests being handled on the public listener, counted against server.max_concurrent.",
	}, func() float64 { return m.loaded(func(l *load) int64 { return l.requests.used.Load() }) })
	spooled := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hookgate_spool_bytes",
		Help: "Bytes of request bodies spooled to disk, counted against server.spool_max.",
	}, func() float64 { return m.loaded(func(l *load) int64 { return l.spool.used.Load() }) })
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.published, m.validations, m.reloads, inFlight, spooled} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("gateway metrics: %w; use one registry per process", err)
		}
	}
	// Both results show from the start, so that a rate() of failures works
	// before the first one.
	m.reloads.WithLabelValues("success")
	m.reloads.WithLabelValues("failure")
	return m, nil
}

// observe makes the load gauges report l.
func (m *Metrics) observe(l *load) {
	if m != nil {
		m.load.Store(l)
	}
}

func (m *Metrics) loaded(value func(*load) int64) float64 {
	if l := m.load.Load(); l != nil {
		return float64(value(l))
	}
	return 0
}

// Reloaded counts one configuration reload: result "success" when err is
// nil, "failure" otherwise.
func (m *Metrics) Reloaded(err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.reloads.WithLabelValues("failure").Inc()
		return
	}
	m.reloads.WithLabelValues("success").Inc()
}

// webhookMetrics are one webhook's label children, resolved once so that a
// request costs no label hashing on the common paths.
type webhookMetrics struct {
	of         *Metrics // the Metrics these children belong to
	identifier string
	ok         prometheus.Counter   // requests with status 200
	duration   prometheus.Observer  // request duration
	published  []prometheus.Counter // per target, in w.targets order
	validators []prometheus.Counter // per chain element, in w.chain order
}

// webhookMetricsHolder caches a webhook's children; a Runtime is shared by
// every request, so the cache is an atomic pointer.
type webhookMetricsHolder struct {
	p atomic.Pointer[webhookMetrics]
}

// metrics returns w's children in m, building them on first use.
func (w *webhook) metrics(m *Metrics) *webhookMetrics {
	if m == nil {
		return nil
	}
	if wm := w.mx.p.Load(); wm != nil && wm.of == m {
		return wm
	}
	id := w.cfg.Identifier
	wm := &webhookMetrics{
		of:         m,
		identifier: id,
		ok:         m.requests.WithLabelValues(id, "200"),
		duration:   m.duration.WithLabelValues(id),
		published:  make([]prometheus.Counter, len(w.targets)),
		validators: make([]prometheus.Counter, len(w.kinds)),
	}
	for i, t := range w.targets {
		wm.published[i] = m.published.WithLabelValues(id, t.name)
	}
	for i, kind := range w.kinds {
		wm.validators[i] = m.validations.WithLabelValues(id, kind)
	}
	w.mx.p.Store(wm)
	return wm
}

// prepare resolves the children of every webhook of rt in m ahead of the
// first request.
func (rt *Runtime) prepare(m *Metrics) {
	if m == nil || rt == nil {
		return
	}
	for _, w := range rt.webhooks {
		w.metrics(m)
	}
}

// forget deletes the series of what old served and now does not: a
// removed or disabled webhook, an incoming configuration or validator kind
// a webhook no longer has. Requests still running on old count into
// children no longer exported.
func (m *Metrics) forget(old, now *Runtime) {
	if m == nil || old == nil {
		return
	}
	for id, w := range old.webhooks {
		nw := now.webhooks[id]
		if nw == nil {
			for _, vec := range []interface {
				DeletePartialMatch(prometheus.Labels) int
			}{m.requests, m.duration, m.published, m.validations} {
				vec.DeletePartialMatch(prometheus.Labels{"webhook": id})
			}
			continue
		}
		for _, t := range w.targets {
			if !slices.ContainsFunc(nw.targets, func(n target) bool { return n.name == t.name }) {
				m.published.DeleteLabelValues(id, t.name)
			}
		}
		for _, kind := range w.kinds {
			if !slices.Contains(nw.kinds, kind) {
				m.validations.DeleteLabelValues(id, kind)
			}
		}
	}
}

// request records one answered request. wm is nil for an unknown webhook.
func (m *Metrics) request(wm *webhookMetrics, status int, seconds float64) {
	if m == nil {
		return
	}
	if wm == nil {
		m.requests.WithLabelValues(UnknownWebhook, strconv.Itoa(status)).Inc()
		m.duration.WithLabelValues(UnknownWebhook).Observe(seconds)
		return
	}
	if status == 200 {
		wm.ok.Inc()
	} else {
		m.requests.WithLabelValues(wm.identifier, strconv.Itoa(status)).Inc()
	}
	wm.duration.Observe(seconds)
}

// count notes one task of target i handed to the batch.
func (p *publication) count(i int) {
	if p.added != nil {
		p.added[i]++
	}
}

// countPublished adds the acknowledged tasks to the webhook's counters. With
// one target they are all its own; with several, they are attributed target
// by target up to what each was handed, which is exact unless the request
// failed part-way (then a few may be counted under the wrong incoming).
func (p *publication) countPublished(wm *webhookMetrics, published int) {
	if published <= 0 || len(wm.published) != len(p.w.targets) {
		return
	}
	if p.added == nil {
		wm.published[0].Add(float64(published))
		return
	}
	for i, n := range p.added {
		n = min(n, published)
		if n > 0 {
			wm.published[i].Add(float64(n))
		}
		published -= n
	}
}
