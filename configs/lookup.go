package configs

import "fmt"

// Summary is what `hookgate validate` prints for a valid configuration.
func (c *Config) Summary() string {
	return fmt.Sprintf("ok: %d webhooks, %d incoming, %d outgoing, %d routes",
		len(c.Webhooks), len(c.Incoming), len(c.Outgoing), len(c.Routes))
}

// Secrets returns every configured secret value, each once, for redaction
// in logs, request logs, the admin API and errors (SPEC §8, §11): the
// values of secret keys, the values of outgoing headers named like
// credentials (SecretHeader) and the passwords and tokens written into
// nats.url and token_url.
func (c *Config) Secrets() []string {
	var out []string
	seen := map[string]bool{}
	add := func(ss ...string) {
		for _, s := range ss {
			if s != "" && !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	add(c.Admin.Token, c.NATS.Password, c.NATS.Token, c.NATS.Embedded.Auth.Token, c.NATS.Embedded.Auth.Password)
	add(urlListSecrets(c.NATS.URL)...)
	add(urlSecrets(c.Tracing.OTLPEndpoint)...)
	for _, w := range c.Webhooks {
		for _, p := range w.PreProcessors {
			switch {
			case p.HeaderSecret != nil:
				add(p.HeaderSecret.AllSecrets()...)
			case p.BasicAuth != nil:
				add(p.BasicAuth.AllPasswords()...)
			case p.HMAC != nil:
				add(p.HMAC.AllSecrets()...)
			}
		}
	}
	for _, o := range c.Outgoing {
		if o.Signing != nil {
			add(o.Signing.AllSecrets()...)
		}
		for _, h := range o.Headers {
			if SecretHeader(h.Key) {
				add(h.Value)
			}
		}
	}
	for _, a := range c.AuthProfiles {
		add(a.Password, a.Token, a.Value, a.ClientSecret)
		add(urlSecrets(a.TokenURL)...)
	}
	return out
}

// WebhookByIdentifier returns the webhook served at /webhooks/<id>, disabled ones included.
func (c *Config) WebhookByIdentifier(id string) (*Webhook, bool) {
	return find(c.Webhooks, func(w *Webhook) bool { return w.Identifier == id })
}

// IncomingByName returns the incoming configuration called name.
func (c *Config) IncomingByName(name string) (*Incoming, bool) {
	return find(c.Incoming, func(in *Incoming) bool { return in.Name == name })
}

// OutgoingByName returns the outgoing configuration called name.
func (c *Config) OutgoingByName(name string) (*Outgoing, bool) {
	return find(c.Outgoing, func(o *Outgoing) bool { return o.Name == name })
}

// AuthProfileByName returns the auth profile called name.
func (c *Config) AuthProfileByName(name string) (*AuthProfile, bool) {
	return find(c.AuthProfiles, func(a *AuthProfile) bool { return a.Name == name })
}

// RouteByName returns the route called name.
func (c *Config) RouteByName(name string) (*Route, bool) {
	return find(c.Routes, func(r *Route) bool { return r.Name == name })
}

// RoutesFor returns the enabled routes reading from the incoming configuration name.
func (c *Config) RoutesFor(incoming string) []*Route {
	var out []*Route
	for i := range c.Routes {
		if r := &c.Routes[i]; r.Incoming == incoming && !r.Disabled {
			out = append(out, r)
		}
	}
	return out
}

func find[T any](xs []T, ok func(*T) bool) (*T, bool) {
	for i := range xs {
		if ok(&xs[i]) {
			return &xs[i], true
		}
	}
	return nil, false
}
