package configs

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
)

// validator checks a merged configuration. Every message reads
// "what is wrong; what is allowed", as SPEC §1 asks.
type validator struct {
	cfg      *Config
	refs     *refs
	problems Problems
}

func validate(cfg *Config, r *refs) Problems {
	v := &validator{cfg: cfg, refs: r}
	v.server(r.sections["server"])
	v.admin(r.sections["admin"])
	v.log(r.sections["log"])
	v.nats(r.sections["nats"])
	v.tracing(r.sections["tracing"])
	incoming := v.names("incoming", len(cfg.Incoming), func(i int) string { return cfg.Incoming[i].Name }, r.incoming)
	outgoing := v.names("outgoing", len(cfg.Outgoing), func(i int) string { return cfg.Outgoing[i].Name }, r.outgoing)
	profiles := v.names("auth profile", len(cfg.AuthProfiles), func(i int) string { return cfg.AuthProfiles[i].Name }, r.authProfiles)
	v.names("route", len(cfg.Routes), func(i int) string { return cfg.Routes[i].Name }, r.routes)
	v.webhookNames()
	for i := range cfg.AuthProfiles {
		v.authProfile(r.authProfiles[i], &cfg.AuthProfiles[i])
	}
	for i := range cfg.Incoming {
		v.incoming(r.incoming[i], &cfg.Incoming[i])
	}
	for i := range cfg.Webhooks {
		v.webhook(r.webhooks[i], &cfg.Webhooks[i], incoming)
	}
	for i := range cfg.Outgoing {
		v.outgoing(r.outgoing[i], &cfg.Outgoing[i], profiles)
	}
	for i := range cfg.Routes {
		v.route(r.routes[i], &cfg.Routes[i], incoming, outgoing)
	}
	return v.problems
}

// errorf records a problem at r.path+sub, on the line of that key or of the
// nearest key above it that was written.
func (v *validator) errorf(r ref, sub, format string, args ...any) {
	path := r.path + sub
	if r.src != nil && r.src.bad[path] {
		return // decoding already said what is wrong here
	}
	v.problems = append(v.problems, Problem{File: r.file(), Line: r.line(path), Path: path, Msg: fmt.Sprintf(format, args...)})
}

// oneOf checks an enumerated value: `unknown value "sha2"; use sha1, sha256 or sha512`.
func (v *validator) oneOf(r ref, sub, val string, allowed ...string) bool {
	for _, a := range allowed {
		if val == a {
			return true
		}
	}
	if val == "" {
		v.errorf(r, sub, "required; use %s", orList(allowed))
	} else {
		v.errorf(r, sub, "unknown value %q; use %s", clip(val), orList(allowed))
	}
	return false
}

// orList writes "a, b or c".
func orList(xs []string) string {
	if len(xs) < 2 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}

// definedList writes the names a reference may use, for "is not defined" messages.
func definedList(_ map[string]bool, order []string) string {
	if len(order) == 0 {
		return "none"
	}
	return strings.Join(order, ", ")
}

// nameSet is the names defined in one list, in definition order.
type nameSet struct {
	has   map[string]bool
	order []string
}

func (s nameSet) ref(v *validator, r ref, sub, kind, name string) {
	if name == "" {
		v.errorf(r, sub, "required; name one of the %s configurations (defined: %s)", kind, definedList(s.has, s.order))
		return
	}
	if !s.has[name] {
		v.errorf(r, sub, "%q is not defined; defined: %s", clip(name), definedList(s.has, s.order))
	}
}

// refList checks a list of references at r+key: each is a name of s (ref)
// listed once, counting taken as listed before it; why follows the
// message about a second listing.
func (s nameSet) refList(v *validator, r ref, key, kind string, names, taken []string, why string) {
	seen := map[string]bool{}
	for _, name := range taken {
		seen[name] = true
	}
	for i, name := range names {
		sub := fmt.Sprintf("%s[%d]", key, i)
		if seen[name] {
			v.errorf(r, sub, "%q is listed twice%s", name, why)
			continue
		}
		seen[name] = true
		s.ref(v, r, sub, kind, name)
	}
}

// maxNameLen bounds incoming, outgoing, route and auth profile names.
const maxNameLen = 128

// names checks that every element of a list has a valid, unique name; a
// second definition names the first one's file and line.
func (v *validator) names(kind string, n int, name func(int) string, rs []ref) nameSet {
	s := nameSet{has: map[string]bool{}}
	first := map[string]ref{}
	for i := 0; i < n; i++ {
		nm, r := name(i), rs[i]
		switch {
		case nm == "":
			v.errorf(r, ".name", "required; %s names are [a-z0-9_-]+", kind)
			continue
		case !nameRe.MatchString(nm):
			v.errorf(r, ".name", "invalid name %q; %s names are [a-z0-9_-]+ (lower case, digits, _ and -)", clip(nm), kind)
		case len(nm) > maxNameLen:
			// Names become subjects, consumer names and descriptions, which NATS bounds.
			v.errorf(r, ".name", "name of %d characters; %s names have at most %d", len(nm), kind, maxNameLen)
		}
		if f, dup := first[nm]; dup {
			v.errorf(r, ".name", "%s %q is defined twice; first at %s:%d", kind, nm, f.file(), f.line(f.path+".name"))
			continue
		}
		first[nm] = r
		s.has[nm] = true
		s.order = append(s.order, nm)
	}
	return s
}

// webhookNames checks webhook names and identifiers for uniqueness; names
// are free text, identifiers are [a-z0-9][a-z0-9_-]*.
func (v *validator) webhookNames() {
	byName, byID := map[string]ref{}, map[string]ref{}
	for i := range v.cfg.Webhooks {
		w, r := &v.cfg.Webhooks[i], v.refs.webhooks[i]
		if strings.TrimSpace(w.Name) == "" {
			v.errorf(r, ".name", "required; the identifier is derived from it unless identifier is set")
			continue
		}
		nameDup := false
		if f, dup := byName[w.Name]; dup {
			v.errorf(r, ".name", "webhook %q is defined twice; first at %s:%d", w.Name, f.file(), f.line(f.path+".name"))
			nameDup = true
		} else {
			byName[w.Name] = r
		}
		switch {
		case r.has(".identifier") && !identifierRe.MatchString(w.Identifier):
			v.errorf(r, ".identifier", "invalid identifier %q; use [a-z0-9][a-z0-9_-]* (lower case, digits, _ and -)", clip(w.Identifier))
			continue
		case w.Identifier == "":
			v.errorf(r, ".name", "the slug of %q is empty; set identifier", clip(w.Name))
			continue
		}
		if f, dup := byID[w.Identifier]; dup && !nameDup {
			v.errorf(r, ".identifier", "identifier %q is used twice; first by webhook %q at %s:%d; set a distinct identifier",
				w.Identifier, v.webhookAt(f).Name, f.file(), f.line(f.path))
		} else if !dup {
			byID[w.Identifier] = r
		}
	}
}

func (v *validator) webhookAt(r ref) *Webhook {
	for i, x := range v.refs.webhooks {
		if x == r {
			return &v.cfg.Webhooks[i]
		}
	}
	return &Webhook{}
}

func (v *validator) positive(r ref, sub string, ok bool, what string) {
	if !ok {
		v.errorf(r, sub, "must be %s", what)
	}
}

func (v *validator) listenAddr(r ref, sub, addr string) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		v.errorf(r, sub, "invalid address %q; use host:port or :port (\":8080\", \"127.0.0.1:8081\")", clip(addr))
	}
}

func (v *validator) server(r ref) {
	s := v.cfg.Server
	if s.Listen == "" {
		v.errorf(r, ".listen", "required; use host:port or :port (\":8080\")")
	} else {
		v.listenAddr(r, ".listen", s.Listen)
	}
	v.positive(r, ".max_body", s.MaxBody > 0, "more than 0 bytes (10MiB)")
	v.positive(r, ".read_header_timeout", s.ReadHeaderTimeout > 0, "more than 0 (10s)")
	v.positive(r, ".read_timeout", s.ReadTimeout > 0, "more than 0 (60s)")
	v.positive(r, ".shutdown_timeout", s.ShutdownTimeout > 0, "more than 0 (30s)")
	v.positive(r, ".spool_max", s.SpoolMax > 0, "more than 0 bytes (1GiB)")
	v.positive(r, ".max_concurrent", s.MaxConcurrent >= 1, "at least 1 (1024)")
}

func (v *validator) admin(r ref) {
	a := v.cfg.Admin
	if a.Listen == "" {
		return
	}
	v.listenAddr(r, ".listen", a.Listen)
	if a.Token == "" && !loopbackListen(a.Listen) {
		v.errorf(r, ".token", "required when admin.listen is not a loopback address; set a token (${HOOKGATE_ADMIN_TOKEN}) or listen on 127.0.0.1")
	}
}

func loopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

func (v *validator) log(r ref) {
	v.oneOf(r, ".level", v.cfg.Log.Level, "debug", "info", "warn", "error")
	v.oneOf(r, ".format", v.cfg.Log.Format, "json", "console")
}

func (v *validator) nats(r ref) {
	n := v.cfg.NATS
	if n.URL != "" {
		for i, u := range strings.Split(n.URL, ",") {
			u = strings.TrimSpace(u)
			p, err := url.Parse(u)
			if err == nil && p.Host != "" && oneOfStr(p.Scheme, "nats", "tls", "ws", "wss") {
				continue
			}
			shown := fmt.Sprintf("%q", clip(redactURL(u)))
			if !strings.Contains(u, "@") && strings.Contains(n.URL, "@") {
				// It may be the start of a password that holds a comma.
				shown = fmt.Sprintf("number %d", i+1)
			}
			v.errorf(r, ".url", "invalid server URL %s; use nats://host:4222, several separated by commas, or \"\" for the embedded server", shown)
		}
	} else {
		for _, k := range []struct{ key, val string }{
			{"creds_file", n.CredsFile}, {"user", n.User}, {"password", n.Password}, {"token", n.Token},
			{"nkey_file", n.NKeyFile}, {"tls", n.TLS.CAFile + n.TLS.CertFile + n.TLS.KeyFile},
		} {
			if k.val != "" {
				v.errorf(r, "."+k.key, "only used with nats.url; clients of the embedded server use nats.embedded.auth (remove it or set url)")
			}
		}
		if n.Embedded.StoreDir == "" {
			v.errorf(r, ".embedded.store_dir", "required for the embedded server; a directory such as data/nats")
		}
		if n.Embedded.Listen != "" {
			v.listenAddr(r, ".embedded.listen", n.Embedded.Listen)
		}
		v.embeddedAuth(r)
	}
	if (n.User == "") != (n.Password == "") {
		v.errorf(r, ".user", "user and password go together; set both or neither")
	}
	if (n.TLS.CertFile == "") != (n.TLS.KeyFile == "") {
		v.errorf(r, ".tls", "cert_file and key_file go together; set both or neither")
	}
	// nats-server refuses max_payload above max_pending, 64MiB by default,
	// and hookgate does not expose max_pending.
	const maxPayloadLimit = 64 * MiB
	v.positive(r, ".embedded.max_payload", n.Embedded.MaxPayload > 0 && n.Embedded.MaxPayload <= maxPayloadLimit, "between 1 byte and 64MiB (8MiB)")
	if n.Stream.Name == "" || strings.ContainsAny(n.Stream.Name, " \t\r\n.*>/\\") {
		v.errorf(r, ".stream.name", "invalid stream name %q; use letters, digits, _ and - (%s)", clip(n.Stream.Name), DefaultTaskStream)
	}
	v.positive(r, ".stream.max_age", n.Stream.MaxAge > 0, "more than 0 (168h)")
	v.positive(r, ".stream.replicas", n.Stream.Replicas >= 1 && n.Stream.Replicas <= 5, "between 1 and 5")
	v.positive(r, ".stream.duplicates", n.Stream.Duplicates > 0 && n.Stream.Duplicates <= n.Stream.MaxAge, "more than 0 and at most stream.max_age (2m)")
	v.positive(r, ".publish_timeout", n.PublishTimeout > 0, "more than 0 (5s)")
	if v.oneOf(r, ".embedded.sync", n.Embedded.Sync, SyncInterval, SyncAlways) && n.URL != "" && n.Embedded.Sync == SyncAlways {
		v.errorf(r, ".embedded.sync", "only used by the embedded server; with nats.url set, fsync is your NATS servers' setting (jetstream {sync_interval: always}), or remove url")
	}
}

// embeddedAuth checks nats.embedded.auth (SPEC §11): a token, or a user
// and a password, and one of them whenever the embedded server listens
// beyond loopback, where anyone reaching the port could publish tasks past
// every validator or delete the streams.
func (v *validator) embeddedAuth(r ref) {
	e := v.cfg.NATS.Embedded
	a := e.Auth
	switch {
	case a.Token != "" && (a.User != "" || a.Password != ""):
		v.errorf(r, ".embedded.auth", "both token and user/password; use {token: …} or {user: …, password: …}, not both")
	case a.User != "" && a.Password == "":
		v.errorf(r, ".embedded.auth.password", "required with user; set both, or use {token: …} instead")
	case a.User == "" && a.Password != "":
		v.errorf(r, ".embedded.auth.user", "required with password; set both, or use {token: …} instead")
	case bcryptRe.MatchString(a.Token) || bcryptRe.MatchString(a.Password):
		// The server would compare with it as a hash; hookgate must present the plain value.
		v.errorf(r, ".embedded.auth", "a bcrypt hash ($2a$…) as token or password; hookgate presents the value as written, so write the plain value")
	case a.Token == "" && a.User == "" && e.Listen != "" && validListen(e.Listen) && !loopbackListen(e.Listen):
		v.errorf(r, ".embedded.auth", "required when nats.embedded.listen %q is not a loopback address: anyone reaching it could publish tasks past every validator or delete the streams; set {token: ${HOOKGATE_NATS_TOKEN}} or {user: …, password: …}, or listen on 127.0.0.1:4222 (\"\" for in-process only)",
			clip(e.Listen))
	}
}

// bcryptRe is how nats-server tells a bcrypt hash from a plain token or
// password (server/auth.go validBcryptPrefix).
var bcryptRe = regexp.MustCompile(`^\$2[abxy]\$\d{2}\$`)

func validListen(addr string) bool {
	_, _, err := net.SplitHostPort(addr)
	return err == nil
}

func oneOfStr(s string, xs ...string) bool {
	for _, x := range xs {
		if s == x {
			return true
		}
	}
	return false
}
