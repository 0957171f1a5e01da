package admin

import (
	"context"
	"errors"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
)

// webhookView is one webhook in GET /api/v1/webhooks. It is built field by
// field from the config so that no secret can slip in with a new field.
type webhookView struct {
	Identifier         string          `json:"identifier"`
	Name               string          `json:"name"`
	Incoming           string          `json:"incoming"`
	AdditionalIncoming []string        `json:"additional_incoming"`
	Methods            []string        `json:"methods"`
	Disabled           bool            `json:"disabled"`
	Validators         []validatorView `json:"validators"`
}

// validatorView names a pre_processor by kind; for hmac, its preset.
type validatorView struct {
	Kind   string `json:"kind"`
	Preset string `json:"preset,omitempty"`
}

func (s *Server) webhooks(w http.ResponseWriter, _ *http.Request) error {
	cfg := s.opts.Current()
	out := struct {
		Webhooks []webhookView `json:"webhooks"`
	}{Webhooks: []webhookView{}}
	if cfg != nil {
		for _, wc := range cfg.Webhooks {
			v := webhookView{
				Identifier:         wc.Identifier,
				Name:               wc.Name,
				Incoming:           wc.Incoming,
				AdditionalIncoming: nonNil(wc.AdditionalIncoming),
				Methods:            wc.Methods,
				Disabled:           wc.Disabled,
				Validators:         []validatorView{},
			}
			if len(v.Methods) == 0 {
				v.Methods = []string{http.MethodPost}
			}
			for _, p := range wc.PreProcessors {
				vv := validatorView{Kind: p.Kind()}
				if p.HMAC != nil {
					vv.Preset = p.HMAC.Preset
				}
				v.Validators = append(v.Validators, vv)
			}
			out.Webhooks = append(out.Webhooks, v)
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// routeView is one route in GET /api/v1/routes.
type routeView struct {
	Name     string     `json:"name"`
	Incoming string     `json:"incoming"`
	Disabled bool       `json:"disabled"`
	Outgoing []pairView `json:"outgoing"`
}

// pairView is one (route, outgoing) pair. Pending is the durable
// consumer's count across every process (not yet delivered plus awaiting
// an ack or a retry), null when the consumer cannot be read; the other
// counts are this process's since it started.
type pairView struct {
	Name      string      `json:"name"`
	Consumer  string      `json:"consumer"`
	Pending   *uint64     `json:"pending"`
	Delivered uint64      `json:"delivered"`
	Failed    uint64      `json:"failed"`
	Dead      uint64      `json:"dead"`
	Circuit   circuitView `json:"circuit"`
}

// circuitView is a pair's circuit breaker; a pair this process does not
// run (a disabled route) shows closed.
type circuitView struct {
	State    string `json:"state"`
	Failures int    `json:"failures"`
	Until    string `json:"until,omitempty"` // RFC 3339, only while open
}

func (s *Server) circuit(route, outgoing string) circuitView {
	v := circuitView{State: "closed"}
	if s.opts.Circuits == nil {
		return v
	}
	c, ok := s.opts.Circuits.Circuit(route, outgoing)
	if !ok {
		return v
	}
	v.State, v.Failures = c.State, c.Failures
	if !c.Until.IsZero() {
		// RFC 3339 with milliseconds, which browsers' Date parses.
		v.Until = c.Until.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	}
	return v
}

// consumerInfoTimeout bounds the wait for one consumer's info.
const consumerInfoTimeout = 5 * time.Second

func (s *Server) routes(w http.ResponseWriter, r *http.Request) error {
	out := struct {
		Routes []routeView `json:"routes"`
	}{Routes: []routeView{}}
	for _, rc := range s.opts.Current().Routes { // the routes the router runs now, after any reload
		v := routeView{Name: rc.Name, Incoming: rc.Incoming, Disabled: rc.Disabled, Outgoing: []pairView{}}
		for _, name := range rc.Outgoing {
			var c Counts
			if s.opts.Deliveries != nil {
				c = s.opts.Deliveries.Counts(rc.Name, name)
			}
			p := pairView{
				Name:      name,
				Consumer:  bus.ConsumerName(rc.Name, name),
				Delivered: c.Delivered,
				Failed:    c.Failed,
				Dead:      c.Dead,
				Circuit:   s.circuit(rc.Name, name),
			}
			p.Pending = s.pending(r.Context(), p.Consumer)
			v.Outgoing = append(v.Outgoing, p)
		}
		out.Routes = append(out.Routes, v)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// pending reads a durable consumer's backlog; nil when it cannot.
func (s *Server) pending(ctx context.Context, consumer string) *uint64 {
	if s.opts.JetStream == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, consumerInfoTimeout)
	defer cancel()
	c, err := s.opts.JetStream.Consumer(ctx, s.opts.Stream, consumer)
	if err != nil {
		s.log.Debug("consumer info", zap.String("consumer", consumer), zap.String("stream", s.opts.Stream), zap.Error(err))
		return nil
	}
	info := c.CachedInfo()
	n := info.NumPending + uint64(max(info.NumAckPending, 0))
	return &n
}

func (s *Server) reload(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Reload == nil {
		return &apiError{status: http.StatusNotImplemented, msg: "reload is not available in this process"}
	}
	if err := s.opts.Reload(r.Context()); err != nil {
		ae := &apiError{status: http.StatusUnprocessableEntity, msg: "config reload refused; the previous config keeps serving"}
		var problems configs.Problems
		if errors.As(err, &problems) {
			for _, p := range problems {
				ae.problems = append(ae.problems, p.String())
			}
		} else {
			ae.problems = []string{err.Error()}
		}
		return ae
	}
	writeJSON(w, http.StatusOK, map[string]bool{"reloaded": true})
	return nil
}

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}
