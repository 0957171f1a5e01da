package configs

import (
	"encoding/xml"
	"fmt"
	"net/netip"
	"net/url"
	"regexp"
	"strings"

	"github.com/google/cel-go/cel"
	"golang.org/x/net/http/httpguts"
)

var (
	outgoingMethods = []string{"POST", "PUT", "PATCH", "DELETE"}
	domainRe        = regexp.MustCompile(`^(\*\.)?([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
)

// authKeys says which credential keys each auth profile type uses; a key of
// another type set on a profile is a mistake worth reporting.
var authKeys = map[string][]string{
	"basic":                     {"username", "password"},
	"bearer":                    {"token"},
	"header":                    {"header", "value"},
	"oauth2_client_credentials": {"client_id", "client_secret", "token_url", "scope"},
}

var authOptional = map[string]bool{"scope": true}

func (v *validator) authProfile(r ref, a *AuthProfile) {
	vals := map[string]string{
		"username": a.Username, "password": a.Password, "token": a.Token, "header": a.Header, "value": a.Value,
		"client_id": a.ClientID, "client_secret": a.ClientSecret, "token_url": a.TokenURL, "scope": a.Scope,
	}
	if v.oneOf(r, ".type", a.Type, "basic", "bearer", "header", "oauth2_client_credentials") {
		used := map[string]bool{}
		for _, k := range authKeys[a.Type] {
			used[k] = true
			if vals[k] == "" && !authOptional[k] {
				v.errorf(r, "."+k, "required for type %s", a.Type)
			}
		}
		for _, k := range []string{"username", "password", "token", "header", "value", "client_id", "client_secret", "scope", "token_url"} {
			if !used[k] && r.has("."+k) {
				v.errorf(r, "."+k, "not used with type %s; it takes %s", a.Type, strings.Join(authKeys[a.Type], ", "))
			}
		}
	}
	if a.Header != "" && !httpguts.ValidHeaderFieldName(a.Header) {
		v.errorf(r, ".header", "invalid header name %q; use letters, digits and - (X-Api-Key)", clip(a.Header))
	}
	if len(a.AllowedDomains) == 0 {
		v.errorf(r, ".allowed_domains", "required; list the hosts these credentials may be sent to (erp.example.com, *.erp.example.com)")
	}
	for i, d := range a.AllowedDomains {
		a.AllowedDomains[i] = strings.ToLower(d)
		if !validDomainPattern(a.AllowedDomains[i]) {
			v.errorf(r, fmt.Sprintf(".allowed_domains[%d]", i), "invalid domain %q; write a host name (erp.example.com), *.erp.example.com or an IP address, without scheme or port", clip(d))
		}
	}
	if a.TokenURL != "" {
		v.tokenURL(r, a)
	}
}

// tokenURL checks an OAuth2 token endpoint (SPEC §11): the client secret
// goes there, so its host must be one of the profile's allowed_domains, and
// it is dialled through the same guard as the deliveries that use the
// profile, so a refused literal address needs allow_private_networks on
// every one of them.
func (v *validator) tokenURL(r ref, a *AuthProfile) {
	u, err := url.Parse(a.TokenURL)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		v.errorf(r, ".token_url", "invalid URL %q; use the https:// token endpoint", clip(redactURL(a.TokenURL)))
		return
	case numericHost(u.Hostname()):
		v.errorf(r, ".token_url", "host %s is a number, not a name or a dotted IP address; write an IPv4 address as a.b.c.d", clip(u.Hostname()))
		return
	case len(a.AllowedDomains) > 0 && !allowedHost(a.AllowedDomains, u.Hostname()):
		v.errorf(r, ".token_url", "host %s is outside allowed_domains (%s); the client secret is sent there, add the host to allowed_domains",
			u.Hostname(), strings.Join(a.AllowedDomains, ", "))
	}
	why, refused := refusedHost(u.Hostname())
	if !refused {
		return
	}
	var without []string
	for _, o := range v.cfg.Outgoing {
		if o.Auth == a.Name && !o.AllowPrivateNetworks {
			without = append(without, o.Name)
		}
	}
	if len(without) > 0 {
		v.errorf(r, ".token_url", "host %s is %s, an address deliveries refuse (SPEC §11), and outgoing %s using this profile does not set allow_private_networks: true; set it on every outgoing using %q, or use a public token endpoint",
			u.Hostname(), why, strings.Join(without, ", "), a.Name)
	}
}

func validDomainPattern(d string) bool {
	if _, err := netip.ParseAddr(d); err == nil {
		return true
	}
	return domainRe.MatchString(d)
}

func (v *validator) outgoing(r ref, o *Outgoing, profiles nameSet) {
	u, err := url.Parse(o.URL)
	switch {
	case o.URL == "":
		v.errorf(r, ".url", "required; the http:// or https:// URL to deliver to")
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		v.errorf(r, ".url", "invalid URL %q; use an absolute http:// or https:// URL", clip(redactURL(o.URL)))
	case u.User != nil:
		v.errorf(r, ".url", "credentials in the URL; remove them and use an auth profile")
	case numericHost(u.Hostname()):
		v.errorf(r, ".url", "host %s is a number, not a name or a dotted IP address; write an IPv4 address as a.b.c.d", clip(u.Hostname()))
	case !o.AllowPrivateNetworks:
		if why, refused := refusedHost(u.Hostname()); refused {
			v.errorf(r, ".url", "host %s is %s, an address deliveries refuse (SPEC §11); set allow_private_networks: true to deliver there", u.Hostname(), why)
		}
	}
	if m := strings.ToUpper(o.Method); oneOfStr(m, outgoingMethods...) {
		o.Method = m
	} else {
		v.errorf(r, ".method", "unknown method %q; use %s", clip(o.Method), orList(outgoingMethods))
	}
	if v.oneOf(r, ".format", o.Format, "json", "xml") && o.Format == "xml" && !validXMLName(o.RootElement) {
		v.errorf(r, ".root_element", "invalid XML element name %q; use a name such as Order", clip(o.RootElement))
	}
	for _, h := range o.Headers {
		if !httpguts.ValidHeaderFieldName(h.Key) {
			v.errorf(r, ".headers."+h.Key, "invalid header name; use letters, digits and - (X-Api-Version)")
		} else if !httpguts.ValidHeaderFieldValue(h.Value) {
			v.errorf(r, ".headers."+h.Key, "invalid header value; no line breaks or control characters")
		}
	}
	if o.Auth != "" {
		profiles.ref(v, r, ".auth", "auth profile", o.Auth)
		if p := v.profile(o.Auth); p != nil && err == nil && u.Host != "" {
			if !allowedHost(p.AllowedDomains, u.Hostname()) {
				v.errorf(r, ".url", "host %s is outside the allowed_domains of auth profile %q (%s); add it there or use another profile",
					u.Hostname(), o.Auth, strings.Join(p.AllowedDomains, ", "))
			}
		}
	}
	if o.Signing != nil {
		v.hmac(ref{r.src, r.path + ".signing"}, o.Signing, OutgoingPresetNames())
	}
	v.positive(r, ".timeout", o.Timeout > 0, "more than 0 (10s)")
	v.positive(r, ".concurrency", o.Concurrency >= 1, "at least 1 (8)")
	v.positive(r, ".retry.max_attempts", o.Retry.MaxAttempts >= 1, "at least 1 (12)")
	v.positive(r, ".retry.initial_interval", o.Retry.InitialInterval > 0, "more than 0 (1s)")
	v.positive(r, ".retry.max_interval", o.Retry.MaxInterval >= o.Retry.InitialInterval, "at least retry.initial_interval (15m)")
	v.positive(r, ".circuit.failures", o.Circuit.Failures >= 0, "at least 0 (10; 0 turns the circuit breaker off)")
	v.positive(r, ".circuit.open_for", o.Circuit.OpenFor > 0, "more than 0 (30s)")
	v.positive(r, ".circuit.max_open_for", o.Circuit.MaxOpenFor >= o.Circuit.OpenFor, "at least circuit.open_for (10m)")
}

func (v *validator) profile(name string) *AuthProfile {
	for i := range v.cfg.AuthProfiles {
		if v.cfg.AuthProfiles[i].Name == name {
			return &v.cfg.AuthProfiles[i]
		}
	}
	return nil
}

func allowedHost(patterns []string, host string) bool {
	for _, p := range patterns {
		if MatchDomain(p, host) {
			return true
		}
	}
	return false
}

func validXMLName(s string) bool {
	if s == "" || strings.ContainsAny(s, ": \t\r\n") {
		return false
	}
	var t struct {
		XMLName xml.Name
	}
	return xml.Unmarshal([]byte("<"+s+"/>"), &t) == nil && t.XMLName.Local == s
}

func (v *validator) route(r ref, rt *Route, incoming, outgoing nameSet) {
	incoming.ref(v, r, ".incoming", "incoming", rt.Incoming)
	if len(rt.Outgoing) == 0 {
		v.errorf(r, ".outgoing", "required; list one or more outgoing configurations (defined: %s)", definedList(outgoing.has, outgoing.order))
	}
	outgoing.refList(v, r, ".outgoing", "outgoing", rt.Outgoing, nil, "")
	var env celEnv
	for i, c := range rt.Filter {
		v.condition(ref{r.src, fmt.Sprintf("%s.filter[%d]", r.path, i)}, c, &env)
	}
	for i, t := range rt.Transform {
		v.transform(ref{r.src, fmt.Sprintf("%s.transform[%d]", r.path, i)}, t)
	}
}

// celEnv makes the CEL environment once per route, at its first cel entry.
type celEnv struct {
	env *cel.Env
	err error
}

func (e *celEnv) get() (*cel.Env, error) {
	if e.env == nil && e.err == nil {
		e.env, e.err = CELEnv()
	}
	return e.env, e.err
}

var operators = []string{"equals", "not_equals", "in", "matches", "exists", "gt", "lt"}

func (v *validator) condition(r ref, c Condition, env *celEnv) {
	if r.has(".cel") {
		v.celCondition(r, c, env)
		return
	}
	if c.Path == "" {
		v.errorf(r, ".path", "required; a gjson path on the item (status, lines.#.sku)")
	}
	var set []string
	for _, op := range operators {
		if r.has("." + op) {
			set = append(set, op)
		}
	}
	switch {
	case len(set) == 0:
		v.errorf(r, "", "no operator; use exactly one of %s, or a cel expression alone", strings.Join(operators, ", "))
	case len(set) > 1:
		v.errorf(r, "", "%d operators (%s); use exactly one per condition and add a condition for each", len(set), strings.Join(set, ", "))
	}
	if r.has(".in") && len(c.In) == 0 {
		v.errorf(r, ".in", "empty list; list the values that pass")
	}
	if r.has(".matches") {
		if _, err := regexp.Compile(c.Matches); err != nil {
			v.errorf(r, ".matches", "invalid regular expression: %v", err)
		}
	}
}

// celCondition checks a cel entry: alone in its condition, compiled, and
// yielding bool.
func (v *validator) celCondition(r ref, c Condition, env *celEnv) {
	for _, k := range append([]string{"path"}, operators...) {
		if r.has("." + k) {
			v.errorf(r, "."+k, "not allowed beside cel; a cel expression stands alone, write this test in it or in its own condition")
		}
	}
	e, err := env.get()
	if err != nil {
		v.errorf(r, ".cel", "CEL environment: %v", err)
		return
	}
	if _, err := CompileCEL(e, c.CEL); err != nil {
		v.errorf(r, ".cel", "%v", err)
	}
}

func (v *validator) transform(r ref, t Transform) {
	switch {
	case r.has(".jq"):
		if _, _, err := CompileJQ(t.JQ); err != nil {
			v.errorf(r, ".jq", "%v", err)
		}
	case r.has(".map"):
		v.pairs(r, ".map", t.Map, "a gjson path on the item")
	case r.has(".rename"):
		v.pairs(r, ".rename", t.Rename, "the new key")
	case r.has(".set"):
		if len(t.Set) == 0 {
			v.errorf(r, ".set", "empty; set key: value pairs")
		}
	case r.has(".remove"):
		if len(t.Remove) == 0 {
			v.errorf(r, ".remove", "empty; list the keys to remove")
		}
		for i, k := range t.Remove {
			if k == "" {
				v.errorf(r, fmt.Sprintf(".remove[%d]", i), "empty; a key or gjson path")
			}
		}
	}
}

func (v *validator) pairs(r ref, sub string, kvs []KeyValue, what string) {
	if len(kvs) == 0 {
		v.errorf(r, sub, "empty; write key: value pairs")
	}
	for _, kv := range kvs {
		if kv.Key == "" || kv.Value == "" {
			v.errorf(r, sub+"."+kv.Key, "empty; the value is %s", what)
		}
	}
}
