package configs

import "go.yaml.in/yaml/v3"

// The tables below are the configuration's key spec, one per section, in the
// order of SPEC §2–§6. Unknown-key messages list the keys from these tables.

func (d *decoder) topFields(c *Config, seen map[string]int) fields {
	section := func(key string, set setter) field {
		return field{key, func(n *yaml.Node, path string) {
			seen[key] = d.lines[path]
			set(n, path)
		}}
	}
	return fields{
		section("server", func(n *yaml.Node, p string) { d.object(n, p, d.serverFields(&c.Server)) }),
		section("admin", func(n *yaml.Node, p string) { d.object(n, p, d.adminFields(&c.Admin)) }),
		section("log", func(n *yaml.Node, p string) { d.object(n, p, d.logFields(&c.Log)) }),
		section("nats", func(n *yaml.Node, p string) { d.object(n, p, d.natsFields(&c.NATS)) }),
		section("tracing", func(n *yaml.Node, p string) { d.object(n, p, d.tracingFields(&c.Tracing)) }),
		{"auth_profiles", elements(d, &c.AuthProfiles, func() AuthProfile { return AuthProfile{} }, d.authProfileFields)},
		{"webhooks", elements(d, &c.Webhooks, defaultWebhook, d.webhookFields)},
		{"incoming", elements(d, &c.Incoming, defaultIncoming, d.incomingFields)},
		{"outgoing", elements(d, &c.Outgoing, defaultOutgoing, d.outgoingFields)},
		{"routes", elements(d, &c.Routes, func() Route { return Route{} }, d.routeFields)},
	}
}

// elements decodes a list of objects, each starting from its defaults and
// remembering where it was defined.
func elements[T any](d *decoder, out *[]T, def func() T, spec func(*T) fields) setter {
	return func(n *yaml.Node, path string) {
		d.list(n, path, func(_ int, e *yaml.Node, ep string) {
			v := def()
			d.object(e, ep, spec(&v))
			setPos(&v, Pos{File: d.file, Line: d.lines[ep]})
			*out = append(*out, v)
		})
	}
}

func setPos(v any, p Pos) {
	switch v := v.(type) {
	case *Webhook:
		v.Pos = p
	case *Incoming:
		v.Pos = p
	case *Outgoing:
		v.Pos = p
	case *Route:
		v.Pos = p
	case *AuthProfile:
		v.Pos = p
	}
}

// object is a setter decoding a nested object in place.
func (d *decoder) nested(fs fields) setter {
	return func(n *yaml.Node, path string) { d.object(n, path, fs) }
}

func (d *decoder) serverFields(s *Server) fields {
	return fields{
		{"listen", d.str(&s.Listen)},
		{"max_body", d.size(&s.MaxBody)},
		{"read_header_timeout", d.duration(&s.ReadHeaderTimeout)},
		{"read_timeout", d.duration(&s.ReadTimeout)},
		{"shutdown_timeout", d.duration(&s.ShutdownTimeout)},
		{"spool_dir", d.str(&s.SpoolDir)},
		{"spool_max", d.size(&s.SpoolMax)},
		{"max_concurrent", d.integer(&s.MaxConcurrent)},
		{"memory_limit", d.size(&s.MemoryLimit)},
	}
}

func (d *decoder) adminFields(a *Admin) fields {
	return fields{{"listen", d.str(&a.Listen)}, {"token", d.secret(&a.Token)}}
}

func (d *decoder) logFields(l *Log) fields {
	return fields{{"level", d.str(&l.Level)}, {"format", d.str(&l.Format)}}
}

func (d *decoder) natsFields(n *NATS) fields {
	return fields{
		{"url", d.str(&n.URL)},
		{"creds_file", d.str(&n.CredsFile)},
		{"user", d.str(&n.User)},
		{"password", d.secret(&n.Password)},
		{"token", d.secret(&n.Token)},
		{"nkey_file", d.str(&n.NKeyFile)},
		{"tls", d.nested(fields{
			{"ca_file", d.str(&n.TLS.CAFile)},
			{"cert_file", d.str(&n.TLS.CertFile)},
			{"key_file", d.str(&n.TLS.KeyFile)},
		})},
		{"embedded", d.nested(fields{
			{"listen", d.str(&n.Embedded.Listen)},
			{"store_dir", d.str(&n.Embedded.StoreDir)},
			{"max_payload", d.size(&n.Embedded.MaxPayload)},
			{"sync", d.str(&n.Embedded.Sync)},
			{"auth", d.nested(fields{
				{"token", d.secret(&n.Embedded.Auth.Token)},
				{"user", d.str(&n.Embedded.Auth.User)},
				{"password", d.secret(&n.Embedded.Auth.Password)},
			})},
		})},
		{"stream", d.nested(fields{
			{"name", d.str(&n.Stream.Name)},
			{"max_age", d.duration(&n.Stream.MaxAge)},
			{"replicas", d.integer(&n.Stream.Replicas)},
			{"duplicates", d.duration(&n.Stream.Duplicates)},
		})},
		{"publish_timeout", d.duration(&n.PublishTimeout)},
		{"connect_timeout", d.duration(&n.ConnectTimeout)},
	}
}

func (d *decoder) tracingFields(t *Tracing) fields {
	return fields{{"otlp_endpoint", d.str(&t.OTLPEndpoint)}, {"sample_ratio", d.float(&t.SampleRatio)}}
}

func (d *decoder) webhookFields(w *Webhook) fields {
	return fields{
		{"name", d.str(&w.Name)},
		{"identifier", d.str(&w.Identifier)},
		{"description", d.str(&w.Description)},
		{"disabled", d.boolean(&w.Disabled)},
		{"incoming", d.str(&w.Incoming)},
		{"additional_incoming", d.strs(&w.AdditionalIncoming)},
		{"logging", d.boolean(&w.Logging)},
		{"methods", d.strs(&w.Methods)},
		{"max_body", d.size(&w.MaxBody)},
		{"rate_limit", d.rate(&w.RateLimit)},
		{"dedup_key", d.str(&w.DedupKey)},
		{"forward_headers", d.strs(&w.ForwardHeaders)},
		{"pre_processors", func(n *yaml.Node, path string) {
			w.PreProcessors = []PreProcessor{}
			d.list(n, path, func(_ int, e *yaml.Node, ep string) {
				var p PreProcessor
				d.oneOf(e, ep, d.preProcessorFields(&p))
				w.PreProcessors = append(w.PreProcessors, p)
			})
		}},
		{"post_processors", func(n *yaml.Node, path string) {
			w.PostProcessors = []PostProcessor{}
			d.list(n, path, func(_ int, e *yaml.Node, ep string) {
				var p PostProcessor
				d.oneOf(e, ep, fields{{"respond", func(n *yaml.Node, path string) {
					r := defaultRespond()
					p.Respond = &r
					d.object(n, path, fields{
						{"status", d.integer(&r.Status)},
						{"content_type", d.str(&r.ContentType)},
						{"body", d.str(&r.Body)},
					})
				}}})
				w.PostProcessors = append(w.PostProcessors, p)
			})
		}},
	}
}

func (d *decoder) preProcessorFields(p *PreProcessor) fields {
	return fields{
		{"header_secret", func(n *yaml.Node, path string) {
			h := &HeaderSecret{}
			p.HeaderSecret = h
			d.object(n, path, fields{
				{"header", d.str(&h.Header)},
				{"prefix", d.str(&h.Prefix)},
				{"secret", d.secret(&h.Secret)},
				{"secrets", d.secretList(&h.Secrets)},
			})
		}},
		{"basic_auth", func(n *yaml.Node, path string) {
			b := &BasicAuth{}
			p.BasicAuth = b
			d.object(n, path, fields{
				{"username", d.str(&b.Username)},
				{"password", d.secret(&b.Password)},
				{"passwords", d.secretList(&b.Passwords)},
			})
		}},
		{"ip_allowlist", func(n *yaml.Node, path string) {
			a := &IPAllowlist{}
			p.IPAllowlist = a
			d.object(n, path, fields{
				{"cidrs", d.strs(&a.CIDRs)},
				{"trusted_proxies", d.strs(&a.TrustedProxies)},
			})
		}},
		{"hmac", d.hmac(&p.HMAC, true)},
	}
}

// hmac decodes a signature check. Outgoing signing (inbound false) has no
// public_url (twilio only verifies) and no tolerance (hookgate stamps the time).
func (d *decoder) hmac(p **HMAC, inbound bool) setter {
	return func(n *yaml.Node, path string) {
		h := &HMAC{}
		*p = h
		fs := fields{
			{"preset", d.str(&h.Preset)},
			{"secret", d.secret(&h.Secret)},
			{"secrets", d.secretList(&h.Secrets)},
			{"header", d.str(&h.Header)},
			{"algorithm", d.str(&h.Algorithm)},
			{"encoding", d.str(&h.Encoding)},
			{"prefix", d.str(&h.Prefix)},
			{"signed_payload", d.str(&h.SignedPayload)},
			{"timestamp_header", d.str(&h.TimestampHeader)},
			{"id_header", d.str(&h.IDHeader)},
			{"tolerance", d.duration(&h.Tolerance)},
			{"public_url", d.str(&h.PublicURL)},
		}
		if !inbound {
			fs = fs[:len(fs)-2]
		}
		d.object(n, path, fs)
	}
}

func (d *decoder) incomingFields(in *Incoming) fields {
	return fields{
		{"name", d.str(&in.Name)},
		{"parser", d.str(&in.Parser)},
		{"read_method", d.str(&in.ReadMethod)},
		{"pattern_to_items", d.str(&in.PatternToItems)},
		{"on_empty", d.str(&in.OnEmpty)},
		{"max_items", d.integer(&in.MaxItems)},
		{"max_items_bytes", d.sizeOrDefault(&in.MaxItemsBytes)},
		{"subject", d.str(&in.Subject)},
		{"type", d.str(&in.Type)},
		{"xml", d.nested(fields{{"cast", d.boolean(&in.XML.Cast)}})},
		{"form", d.nested(fields{{"json_field", d.str(&in.Form.JSONField)}})},
		{"csv", d.nested(fields{{"delimiter", d.str(&in.CSV.Delimiter)}})},
	}
}

func (d *decoder) outgoingFields(o *Outgoing) fields {
	return fields{
		{"name", d.str(&o.Name)},
		{"url", d.str(&o.URL)},
		{"method", d.str(&o.Method)},
		{"format", d.str(&o.Format)},
		{"root_element", d.str(&o.RootElement)},
		{"headers", d.headers(&o.Headers)},
		{"auth", d.str(&o.Auth)},
		{"signing", d.hmac(&o.Signing, false)},
		{"timeout", d.duration(&o.Timeout)},
		{"rate_limit", d.rate(&o.RateLimit)},
		{"concurrency", d.integer(&o.Concurrency)},
		{"ordered", d.boolean(&o.Ordered)},
		{"retry", d.nested(fields{
			{"max_attempts", d.integer(&o.Retry.MaxAttempts)},
			{"initial_interval", d.duration(&o.Retry.InitialInterval)},
			{"max_interval", d.duration(&o.Retry.MaxInterval)},
		})},
		{"circuit", d.nested(fields{
			{"failures", d.integer(&o.Circuit.Failures)},
			{"open_for", d.duration(&o.Circuit.OpenFor)},
			{"max_open_for", d.duration(&o.Circuit.MaxOpenFor)},
		})},
		{"allow_private_networks", d.boolean(&o.AllowPrivateNetworks)},
	}
}

func (d *decoder) authProfileFields(a *AuthProfile) fields {
	return fields{
		{"name", d.str(&a.Name)},
		{"type", d.str(&a.Type)},
		{"username", d.str(&a.Username)},
		{"password", d.secret(&a.Password)},
		{"token", d.secret(&a.Token)},
		{"header", d.str(&a.Header)},
		{"value", d.secret(&a.Value)},
		{"client_id", d.str(&a.ClientID)},
		{"client_secret", d.secret(&a.ClientSecret)},
		{"scope", d.str(&a.Scope)},
		{"token_url", d.str(&a.TokenURL)},
		{"allowed_domains", d.strs(&a.AllowedDomains)},
	}
}

func (d *decoder) routeFields(r *Route) fields {
	return fields{
		{"name", d.str(&r.Name)},
		{"incoming", d.str(&r.Incoming)},
		{"filter", func(n *yaml.Node, path string) {
			d.list(n, path, func(_ int, e *yaml.Node, ep string) {
				var c Condition
				d.object(e, ep, fields{
					{"path", d.str(&c.Path)},
					{"equals", d.strPtr(&c.Equals)},
					{"not_equals", d.strPtr(&c.NotEquals)},
					{"in", d.strs(&c.In)},
					{"matches", d.str(&c.Matches)},
					{"exists", d.boolPtr(&c.Exists)},
					{"gt", d.number(&c.GT)},
					{"lt", d.number(&c.LT)},
					{"cel", d.str(&c.CEL)},
				})
				r.Filter = append(r.Filter, c)
			})
		}},
		{"transform", func(n *yaml.Node, path string) {
			d.list(n, path, func(_ int, e *yaml.Node, ep string) {
				var t Transform
				d.oneOf(e, ep, fields{
					{"map", d.keyValues(&t.Map)},
					{"set", d.keyJSON(&t.Set)},
					{"rename", d.keyValues(&t.Rename)},
					{"remove", d.strs(&t.Remove)},
					{"jq", d.str(&t.JQ)},
				})
				r.Transform = append(r.Transform, t)
			})
		}},
		{"outgoing", d.strs(&r.Outgoing)},
		{"disabled", d.boolean(&r.Disabled)},
	}
}
