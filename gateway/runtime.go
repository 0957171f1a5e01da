package gateway

import (
	"fmt"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/time/rate"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/parsers"
	"github.com/hookgate/hookgate/validators"
)

// Runtime is one immutable, fully built configuration: the gateway reads it
// through an atomic pointer, and a reload builds a new one and swaps it in.
type Runtime struct {
	Config   *configs.Config
	webhooks map[string]*webhook
	// server.max_concurrent and server.spool_max (SPEC §11).
	maxConcurrent, spoolMax int64
}

type webhook struct {
	cfg        configs.Webhook
	source     string // ce-source: /webhooks/<identifier>
	allow      string // the Allow header for 405
	methods    []string
	maxBody    int64
	maxBodyMsg string
	chain      validators.Chain
	kinds      []string // the kind of each chain element, for metrics
	dedup      dedupKey
	targets    []target
	limiter    *rate.Limiter
	forward    []forwardHeader
	respond    *configs.Respond
	redact     *redactor // masks the request log; nil unless logging
	mx         webhookMetricsHolder
}

// target is one incoming configuration a webhook hands its request to.
type target struct {
	name     string
	subject  string
	ceType   string
	splitter *parsers.Splitter
	// templates holds reusable task messages (*taskTemplate) of this target.
	templates *sync.Pool
}

type forwardHeader struct {
	name      string // as written in forward_headers, the name on the task
	canonical string // how net/http stores it on the request
}

// Build turns a loaded configuration into a Runtime. cfg must come from
// configs.Load (defaults applied, references checked).
func Build(cfg *configs.Config) (*Runtime, error) {
	incoming := make(map[string]configs.Incoming, len(cfg.Incoming))
	for _, in := range cfg.Incoming {
		incoming[in.Name] = in
	}
	rt := &Runtime{
		Config: cfg, webhooks: make(map[string]*webhook, len(cfg.Webhooks)),
		maxConcurrent: limit(cfg.Server.MaxConcurrent), spoolMax: limit(cfg.Server.SpoolMax),
	}
	for i, wc := range cfg.Webhooks {
		if wc.Disabled {
			continue // a disabled webhook answers 404 like an unknown one
		}
		w, err := buildWebhook(wc, incoming)
		if err != nil {
			return nil, fmt.Errorf("webhooks[%d] (%s): %w", i, wc.Identifier, err)
		}
		if wc.Logging {
			w.redact = newRedactor(wc, cfg)
		}
		rt.webhooks[wc.Identifier] = w
	}
	return rt, nil
}

func buildWebhook(wc configs.Webhook, incoming map[string]configs.Incoming) (*webhook, error) {
	chain, err := validators.Build(wc.PreProcessors)
	if err != nil {
		return nil, err
	}
	w := &webhook{
		cfg:        wc,
		source:     "/webhooks/" + wc.Identifier,
		methods:    wc.Methods,
		maxBody:    int64(wc.MaxBody),
		maxBodyMsg: "body exceeds " + configs.FormatSize(wc.MaxBody),
		chain:      chain,
	}
	// validators.Build makes one validator per entry, in order.
	for _, p := range wc.PreProcessors {
		w.kinds = append(w.kinds, p.Kind())
	}
	if len(w.methods) == 0 {
		w.methods = []string{http.MethodPost}
	}
	w.allow = strings.Join(w.methods, ", ")
	spec := wc.DedupKey
	if spec == "" {
		spec = validators.DedupKeyDefault(wc.PreProcessors)
	}
	if w.dedup, err = parseDedupKey(spec); err != nil {
		return nil, err
	}
	for _, name := range append([]string{wc.Incoming}, wc.AdditionalIncoming...) {
		in, ok := incoming[name]
		if !ok {
			return nil, fmt.Errorf("incoming %q is not defined", name)
		}
		sp, err := parsers.New(in, wc.MaxBody)
		if err != nil {
			return nil, fmt.Errorf("incoming %q: %w", name, err)
		}
		w.targets = append(w.targets, target{name: in.Name, subject: in.Subject, ceType: in.Type, splitter: sp, templates: new(sync.Pool)})
	}
	if wc.RateLimit.N > 0 {
		perSecond := rate.Limit(float64(wc.RateLimit.N) / wc.RateLimit.Per.Seconds())
		// Burst is one second's worth, at least one request.
		w.limiter = rate.NewLimiter(perSecond, max(1, int(float64(perSecond)+0.5)))
	}
	for _, h := range wc.ForwardHeaders {
		w.forward = append(w.forward, forwardHeader{name: h, canonical: http.CanonicalHeaderKey(h)})
	}
	for _, pp := range wc.PostProcessors {
		if pp.Respond != nil {
			w.respond = pp.Respond
		}
	}
	return w, nil
}

func (w *webhook) allows(method string) bool {
	for _, m := range w.methods {
		if m == method {
			return true
		}
	}
	return false
}
