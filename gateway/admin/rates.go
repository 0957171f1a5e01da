package admin

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
)

// Bounds of GET /api/v1/rates: one bucket a minute, up to an hour back.
const (
	rateStep       = time.Minute
	defaultMinutes = 60
	maxMinutes     = 60
)

// The rates are counted from HOOKGATE_LOG, not from this process's
// counters: every hookgate process sharing the NATS writes its request and
// attempt entries there, so whichever process answers (behind a load
// balancer, a different one each time) counts the traffic of all of them,
// and a restart loses nothing. The count reads headers only (subject and
// time), never the entries' bodies, so an hour of log costs little.

// ratesView is GET /api/v1/rates: per-minute counts, oldest bucket first.
// Bucket i counts what was logged from From + i minutes on; the last one
// is the minute under way.
type ratesView struct {
	From        time.Time `json:"from"`
	StepSeconds int       `json:"step_seconds"`
	Buckets     int       `json:"buckets"`
	// Complete is false when the log could not be read to its end within
	// the read time: buckets from CountedUntil on are then short.
	Complete     bool          `json:"complete"`
	CountedUntil time.Time     `json:"counted_until"`
	Webhooks     []webhookRate `json:"webhooks"`
	Routes       []routeRate   `json:"routes"`
}

// webhookRate is one webhook's logged requests a minute. A webhook without
// `logging: true` writes no request log, so it has no counts (Logging
// false, Requests all zero).
type webhookRate struct {
	Identifier string `json:"identifier"`
	Logging    bool   `json:"logging"`
	Requests   []int  `json:"requests"`
	Total      int    `json:"total"`
}

// routeRate is one route's delivery attempts a minute, over all its
// outgoing, and each pair's.
type routeRate struct {
	Name     string     `json:"name"`
	Attempts []int      `json:"attempts"`
	Total    int        `json:"total"`
	Outgoing []pairRate `json:"outgoing"`
}

type pairRate struct {
	Name     string `json:"name"`
	Attempts []int  `json:"attempts"`
	Total    int    `json:"total"`
}

func (s *Server) registerRates() {
	s.mux.Handle("/api/v1/rates", s.api(http.MethodGet, s.rates))
}

// rates is GET /api/v1/rates?minutes=N: requests a minute per webhook and
// delivery attempts a minute per route over the last N minutes (default
// and most 60), for the webhooks and routes configured now.
func (s *Server) rates(w http.ResponseWriter, r *http.Request) error {
	minutes := defaultMinutes
	if raw := r.URL.Query().Get("minutes"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxMinutes {
			return &apiError{status: http.StatusBadRequest, msg: "minutes: use a whole number from 1 to " + strconv.Itoa(maxMinutes)}
		}
		minutes = n
	}
	now := time.Now().UTC()
	from := now.Truncate(rateStep).Add(-time.Duration(minutes-1) * rateStep)
	out, counters := newRates(s.opts.Current(), from, minutes)
	st, err := s.logStream(r.Context())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), logReadTimeout)
	defer cancel()
	out.CountedUntil = from
	err = scanStream(ctx, st, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{bus.RequestLogSubjects, bus.AttemptLogSubjects},
		DeliverPolicy:  jetstream.DeliverByStartTimePolicy,
		OptStartTime:   &from,
		HeadersOnly:    true,
	}, func(m jetstream.Msg, meta *jetstream.MsgMetadata) bool {
		out.CountedUntil = meta.Timestamp.UTC()
		if meta.Timestamp.After(now) {
			return false // written after the answer began: the next one counts it
		}
		i := int(meta.Timestamp.Sub(from) / rateStep)
		if c := counters[m.Subject()]; c != nil && i >= 0 && i < minutes {
			for _, series := range c {
				series[i]++
			}
		}
		return true
	})
	switch {
	case err == nil:
		out.Complete, out.CountedUntil = true, now
	case ctx.Err() == nil:
		return s.logUnavailable(err)
	}
	out.total()
	writeJSON(w, http.StatusOK, out)
	return nil
}

// newRates lays out the answer for cfg's webhooks and routes, and maps each
// log subject to the series an entry on it counts toward.
func newRates(cfg *configs.Config, from time.Time, n int) (*ratesView, map[string][][]int) {
	out := &ratesView{From: from, StepSeconds: int(rateStep / time.Second), Buckets: n,
		Webhooks: []webhookRate{}, Routes: []routeRate{}}
	counters := map[string][][]int{}
	if cfg == nil {
		return out, counters
	}
	for _, wc := range cfg.Webhooks {
		wr := webhookRate{Identifier: wc.Identifier, Logging: wc.Logging, Requests: make([]int, n)}
		subject := bus.RequestLogSubject(wc.Identifier)
		counters[subject] = append(counters[subject], wr.Requests)
		out.Webhooks = append(out.Webhooks, wr)
	}
	for _, rc := range cfg.Routes {
		rr := routeRate{Name: rc.Name, Attempts: make([]int, n), Outgoing: []pairRate{}}
		seen := map[string]bool{} // the route's series counts an entry once
		for _, o := range rc.Outgoing {
			pr := pairRate{Name: o, Attempts: make([]int, n)}
			// Names that differ only in characters a subject cannot hold
			// share a subject; its entries then count toward each of them.
			subject := bus.AttemptLogSubject(rc.Name, o)
			if !seen[subject] {
				seen[subject] = true
				counters[subject] = append(counters[subject], rr.Attempts)
			}
			counters[subject] = append(counters[subject], pr.Attempts)
			rr.Outgoing = append(rr.Outgoing, pr)
		}
		out.Routes = append(out.Routes, rr)
	}
	return out, counters
}

// total fills in every series' sum.
func (v *ratesView) total() {
	sum := func(xs []int) (n int) {
		for _, x := range xs {
			n += x
		}
		return n
	}
	for i := range v.Webhooks {
		v.Webhooks[i].Total = sum(v.Webhooks[i].Requests)
	}
	for i := range v.Routes {
		rr := &v.Routes[i]
		rr.Total = sum(rr.Attempts)
		for j := range rr.Outgoing {
			rr.Outgoing[j].Total = sum(rr.Outgoing[j].Attempts)
		}
	}
}
