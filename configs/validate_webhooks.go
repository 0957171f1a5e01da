package configs

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/http/httpguts"
)

var webhookMethods = []string{"POST", "PUT", "PATCH", "DELETE"}

func (v *validator) webhook(r ref, w *Webhook, incoming nameSet) {
	incoming.ref(v, r, ".incoming", "incoming", w.Incoming)
	incoming.refList(v, r, ".additional_incoming", "incoming", w.AdditionalIncoming, []string{w.Incoming},
		"; each incoming configuration gets the request once")
	if len(w.Methods) == 0 {
		v.errorf(r, ".methods", "empty; use one or more of %s", orList(webhookMethods))
	}
	methods := map[string]bool{}
	for i, m := range w.Methods {
		sub := fmt.Sprintf(".methods[%d]", i)
		w.Methods[i] = strings.ToUpper(m) // methods are case-insensitive in configs, upper case after
		switch {
		case !oneOfStr(w.Methods[i], webhookMethods...):
			v.errorf(r, sub, "unknown method %q; use %s", clip(m), orList(webhookMethods))
		case methods[w.Methods[i]]:
			v.errorf(r, sub, "%s is listed twice", w.Methods[i])
		}
		methods[w.Methods[i]] = true
	}
	v.positive(r, ".max_body", w.MaxBody > 0, "more than 0 bytes")
	v.dedupKey(r, w.DedupKey)
	v.headerNames(r, ".forward_headers", w.ForwardHeaders)
	for i, h := range w.ForwardHeaders {
		if k := strings.ToLower(h); strings.HasPrefix(k, "ce-") || strings.HasPrefix(k, "nats-") || k == "content-type" {
			v.errorf(r, fmt.Sprintf(".forward_headers[%d]", i), "%s would replace a task header of SPEC §7; forward headers cannot be named ce-*, content-type or Nats-*", h)
		}
	}
	for i, p := range w.PreProcessors {
		pr := ref{r.src, fmt.Sprintf("%s.pre_processors[%d]", r.path, i)}
		switch {
		case p.HeaderSecret != nil:
			v.headerSecret(ref{pr.src, pr.path + ".header_secret"}, p.HeaderSecret)
		case p.BasicAuth != nil:
			v.basicAuth(ref{pr.src, pr.path + ".basic_auth"}, p.BasicAuth)
		case p.IPAllowlist != nil:
			v.ipAllowlist(ref{pr.src, pr.path + ".ip_allowlist"}, p.IPAllowlist)
		case p.HMAC != nil:
			v.hmac(ref{pr.src, pr.path + ".hmac"}, p.HMAC, PresetNames())
		}
	}
	responds := 0
	for i, p := range w.PostProcessors {
		if p.Respond == nil {
			continue
		}
		pr := ref{r.src, fmt.Sprintf("%s.post_processors[%d].respond", r.path, i)}
		if responds++; responds > 1 {
			v.errorf(pr, "", "a second respond; a request gets one response, keep one respond")
		}
		v.positive(pr, ".status", p.Respond.Status >= 200 && p.Respond.Status <= 299, "a success status, 200 to 299 (respond replaces the 200)")
		if p.Respond.ContentType == "" {
			v.errorf(pr, ".content_type", "empty; use a media type such as application/json")
		}
	}
}

func (v *validator) dedupKey(r ref, key string) {
	kind, arg, _ := strings.Cut(key, ":")
	switch {
	case key == "" || key == "body_hash":
	case kind == "header" && httpguts.ValidHeaderFieldName(arg):
	case kind == "body" && arg != "":
	default:
		v.errorf(r, ".dedup_key", "invalid dedup key %q; use header:NAME, body:GJSON.PATH or body_hash", clip(key))
	}
}

// headerNames checks a list of HTTP header names, unique regardless of case.
func (v *validator) headerNames(r ref, sub string, names []string) {
	seen := map[string]bool{}
	for i, h := range names {
		hs := fmt.Sprintf("%s[%d]", sub, i)
		switch k := strings.ToLower(h); {
		case !httpguts.ValidHeaderFieldName(h):
			v.errorf(r, hs, "invalid header name %q; use letters, digits and - (X-GitHub-Event)", clip(h))
		case seen[k]:
			v.errorf(r, hs, "%s is listed twice", h)
		default:
			seen[k] = true
		}
	}
}

func (v *validator) headerName(r ref, sub, h string) {
	if h == "" {
		v.errorf(r, sub, "required; the name of the HTTP header")
	} else if !httpguts.ValidHeaderFieldName(h) {
		v.errorf(r, sub, "invalid header name %q; use letters, digits and - (X-Signature)", clip(h))
	}
}

// secrets checks that at least one secret is set and none is empty. Values
// are never quoted: they are secrets.
func (v *validator) secrets(r ref, one string, many []string, oneKey, manyKey string) {
	if one == "" && len(many) == 0 {
		if r.has("." + oneKey) {
			v.errorf(r, "."+oneKey, "empty; set a non-empty %s (an unset ${VAR:-} default leaves it empty)", oneKey)
		} else {
			v.errorf(r, "."+oneKey, "required; set %s, or %s for rotation", oneKey, manyKey)
		}
	}
	for i, s := range many {
		if s == "" {
			v.errorf(r, fmt.Sprintf(".%s[%d]", manyKey, i), "empty; every entry must be non-empty")
		}
	}
}

func (v *validator) headerSecret(r ref, h *HeaderSecret) {
	v.headerName(r, ".header", h.Header)
	v.secrets(r, h.Secret, h.Secrets, "secret", "secrets")
}

func (v *validator) basicAuth(r ref, b *BasicAuth) {
	if b.Username == "" || strings.Contains(b.Username, ":") {
		v.errorf(r, ".username", "required, without \":\"")
	}
	v.secrets(r, b.Password, b.Passwords, "password", "passwords")
}

func (v *validator) ipAllowlist(r ref, a *IPAllowlist) {
	if len(a.CIDRs) == 0 {
		v.errorf(r, ".cidrs", "required; list the networks allowed (192.0.2.0/24, 2001:db8::/32) or addresses")
	}
	for _, l := range []struct {
		key  string
		vals []string
	}{{"cidrs", a.CIDRs}, {"trusted_proxies", a.TrustedProxies}} {
		for i, c := range l.vals {
			if !validCIDR(c) {
				v.errorf(r, fmt.Sprintf(".%s[%d]", l.key, i), "invalid network %q; use CIDR notation (192.0.2.0/24) or an address", clip(c))
			}
		}
	}
}

func validCIDR(s string) bool {
	if _, err := netip.ParsePrefix(s); err == nil {
		return true
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

// hmac checks a signature configuration, inbound (pre_processors) or
// outbound (outgoing signing), which differ only in the presets allowed.
func (v *validator) hmac(r ref, h *HMAC, presets []string) {
	v.secrets(r, h.Secret, h.Secrets, "secret", "secrets")
	preset, _ := PresetByName(h.Preset)
	if h.Preset != "" {
		if !v.oneOf(r, ".preset", h.Preset, presets...) {
			return
		}
		for _, k := range []struct{ key, val string }{
			{"header", h.Header}, {"algorithm", h.Algorithm}, {"encoding", h.Encoding}, {"prefix", h.Prefix},
			{"signed_payload", h.SignedPayload}, {"timestamp_header", h.TimestampHeader}, {"id_header", h.IDHeader},
		} {
			if r.has("." + k.key) {
				v.errorf(r, "."+k.key, "not used with preset %s; remove it, or remove preset to use the generic form", h.Preset)
			}
		}
		if r.has(".tolerance") && !preset.Timestamp {
			v.errorf(r, ".tolerance", "preset %s has no timestamp; tolerance applies to %s", h.Preset, andList(timestampPresetNames()))
		}
	} else {
		v.headerName(r, ".header", h.Header)
		v.oneOf(r, ".algorithm", h.Algorithm, "sha1", "sha256", "sha512")
		v.oneOf(r, ".encoding", h.Encoding, "hex", "base64")
		v.signedPayload(r, h)
		if h.TimestampHeader != "" {
			v.headerName(r, ".timestamp_header", h.TimestampHeader)
			if !strings.Contains(h.SignedPayload, "{timestamp}") {
				// The tolerance would check a time the signature does not cover.
				v.errorf(r, ".signed_payload", "%q does not sign the timestamp of timestamp_header, so a captured signature replays with a fresh timestamp; add {timestamp} (\"{timestamp}.{body}\") or remove timestamp_header",
					clip(h.SignedPayload))
			}
		} else if r.has(".tolerance") {
			v.errorf(r, ".tolerance", "needs timestamp_header; the tolerance applies to the timestamp it carries")
		}
		if h.IDHeader != "" {
			v.headerName(r, ".id_header", h.IDHeader)
		}
	}
	switch {
	case preset.Scheme == SigTwilio:
		if u, err := url.Parse(h.PublicURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			v.errorf(r, ".public_url", "required for twilio; the URL Twilio calls, exactly as configured there (https://hooks.example.com/webhooks/sms)")
		}
	case r.has(".public_url"):
		v.errorf(r, ".public_url", "only used with preset twilio; remove it")
	}
	if preset.Secret == SecretWhsecBase64 {
		for i, s := range h.AllSecrets() {
			key := ".secret"
			if h.Secret == "" || i > 0 {
				key = fmt.Sprintf(".secrets[%d]", i-btoi(h.Secret != ""))
			}
			if _, ok := preset.Secret.Key(s); !ok {
				v.errorf(r, key, "a %s secret is whsec_ followed by the base64 key; this one is not", h.Preset)
			}
		}
	}
}

// andList writes "a, b and c".
func andList(xs []string) string {
	if len(xs) < 2 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// signedPayload checks placeholders: {id}, {timestamp} and {body}; the
// signature must cover the body, and a placeholder needs its header.
func (v *validator) signedPayload(r ref, h *HMAC) {
	p := h.SignedPayload
	if p == "" {
		return // default "{body}"
	}
	rest := p
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			break
		}
		switch ph := rest[i : i+j+1]; ph {
		case "{body}":
		case "{timestamp}":
			if h.TimestampHeader == "" {
				v.errorf(r, ".signed_payload", "{timestamp} needs timestamp_header")
			}
		case "{id}":
			if h.IDHeader == "" {
				v.errorf(r, ".signed_payload", "{id} needs id_header")
			}
		default:
			v.errorf(r, ".signed_payload", "unknown placeholder %s; use {id}, {timestamp} and {body}", clip(ph))
		}
		rest = rest[i+j+1:]
	}
	if !strings.Contains(p, "{body}") {
		v.errorf(r, ".signed_payload", "must contain {body}; a signature that does not cover the body proves nothing about it")
	}
}

func (v *validator) incoming(r ref, in *Incoming) {
	v.oneOf(r, ".parser", in.Parser, "auto", "json", "xml", "form", "csv", "raw")
	v.oneOf(r, ".read_method", in.ReadMethod, "full", "incremental")
	v.oneOf(r, ".on_empty", in.OnEmpty, "reject", "accept")
	v.positive(r, ".max_items", in.MaxItems >= 1, "at least 1 (100000)")
	if in.PatternToItems != "" {
		if in.Parser == "raw" {
			v.errorf(r, ".pattern_to_items", "not allowed with parser raw, which passes the body through as one task; remove it or choose a parser")
		} else if err := checkPattern(in.PatternToItems); err != nil {
			v.errorf(r, ".pattern_to_items", "%v", err)
		}
	}
	if in.Subject != "" && !validTaskSubject(in.Subject) {
		v.errorf(r, ".subject", "invalid subject %q; use tasks.<name>: the task stream captures tasks.>, tokens without spaces or wildcards", clip(in.Subject))
	}
	if in.Type == "" && r.has(".type") {
		v.errorf(r, ".type", "empty; remove it for hookgate.<name> or set a CloudEvents type")
	}
	if d := in.CSV.Delimiter; utf8.RuneCountInString(d) != 1 || d == "\"" || d == "\r" || d == "\n" || d == string(utf8.RuneError) {
		v.errorf(r, ".csv.delimiter", "invalid delimiter %q; use one character other than a quote or a line break (\",\", \";\", \"\\t\")", clip(d))
	}
}

// checkPattern checks pattern_to_items syntax: segments separated by ".",
// "\." escaping a dot, no empty segment.
func checkPattern(p string) error {
	seg := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			if i+1 >= len(p) || p[i+1] != '.' && p[i+1] != '\\' {
				return fmt.Errorf("invalid pattern %q: \\ escapes only . or \\; write \\. for a literal dot", clip(p))
			}
			i++
			seg++
		case '.':
			if seg == 0 {
				return fmt.Errorf("invalid pattern %q: empty segment; separate keys with one . (Orders.Order)", clip(p))
			}
			seg = 0
		default:
			seg++
		}
	}
	if seg == 0 {
		return fmt.Errorf("invalid pattern %q: empty segment; separate keys with one . (Orders.Order)", clip(p))
	}
	return nil
}

func validTaskSubject(s string) bool {
	if !strings.HasPrefix(s, TaskSubjectPrefix) {
		return false
	}
	for _, tok := range strings.Split(s, ".") {
		if tok == "" || tok == "*" || tok == ">" || strings.ContainsAny(tok, " \t\r\n") {
			return false
		}
	}
	return true
}
