package configs

import (
	"cmp"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// RedactURLs hides the user information of each comma-separated URL (as
// nats.url lists servers), so that messages can name servers without their
// passwords or tokens.
func RedactURLs(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		parts[i] = redactURL(strings.TrimSpace(p))
	}
	return strings.Join(parts, ",")
}

// redactURL hides the user information of one URL. Everything before the
// last @ goes, whether or not it parses as user information (a password
// holding '#' or '/' does not); only the scheme and the user name of a
// user:password pair stay.
func redactURL(p string) string {
	at := strings.LastIndex(p, "@")
	if at < 0 {
		return p
	}
	scheme := ""
	if j := strings.Index(p, "://"); j >= 0 && j < at {
		scheme = p[:j+3]
	}
	who := "***"
	if u, err := url.Parse(p); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			who = u.User.Username() + ":***"
		}
	}
	return scheme + who + p[at:]
}

// urlListSecrets is urlSecrets of each comma-separated URL (nats.url).
func urlListSecrets(urls string) []string {
	var out []string
	for _, p := range strings.Split(urls, ",") {
		out = append(out, urlSecrets(strings.TrimSpace(p))...)
	}
	return out
}

// urlSecrets returns the credentials written into a URL, as written and
// percent-decoded: the password of user:password (what precedes the last
// @, as redactURL reads it), and for NATS schemes a lone user part too,
// which NATS reads as a token (nats://TOKEN@host). Elsewhere a lone user
// part is a name, not a secret.
func urlSecrets(p string) []string {
	j := strings.Index(p, "://")
	at := strings.LastIndex(p, "@")
	if j < 0 || at < j {
		return nil
	}
	info := p[j+3 : at]
	secret, ok := "", false
	if _, pw, hasPassword := strings.Cut(info, ":"); hasPassword {
		secret, ok = pw, true
	} else if oneOfStr(strings.ToLower(p[:j]), "nats", "tls", "ws", "wss") {
		secret, ok = info, true
	}
	if !ok || secret == "" {
		return nil
	}
	out := []string{secret}
	if dec, err := url.PathUnescape(secret); err == nil && dec != secret {
		out = append(out, dec)
	}
	return out
}

// SecretHeader reports whether an outgoing header's value is a secret
// (SPEC §11): its name contains key, token, secret, auth, password or
// signature, in any case.
func SecretHeader(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"key", "token", "secret", "auth", "password", "signature"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// Redact replaces every secret of c (Secrets) in s with ***, for errors
// that may quote a value but are not Problems, which Load masks itself.
func (c *Config) Redact(s string) string { return newMasker(c.Secrets()).mask(s) }

// minMasked is the shortest secret masked wherever it appears in a
// problem. A shorter one ("s", "pw") is masked only as a whole quoted
// value ("pw" becomes "***"): replacing it everywhere would garble every
// message, and problems about a secret key never quote its value in the
// first place (decoder.hide).
const minMasked = 4

// masker replaces secrets in text with ***.
type masker struct{ r *strings.Replacer }

// newMasker masks each secret as written, as %q writes it, and the first
// clipLen bytes of both, which is what clip leaves of a long value.
func newMasker(secrets []string) masker {
	masked := map[string]string{} // form -> its replacement
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if len(s) < minMasked {
			masked[strconv.Quote(s)] = `"***"`
			continue
		}
		for _, f := range []string{s, s[:min(len(s), clipLen)]} {
			masked[f] = "***"
			q := strconv.Quote(f)
			masked[q[1:len(q)-1]] = "***"
		}
	}
	// At each position the first form given that matches wins: longest
	// first, so that a secret containing another is masked whole.
	forms := slices.Collect(maps.Keys(masked))
	slices.SortFunc(forms, func(a, b string) int {
		if c := cmp.Compare(len(b), len(a)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		pairs = append(pairs, f, masked[f])
	}
	return masker{strings.NewReplacer(pairs...)}
}

func (m masker) mask(s string) string { return m.r.Replace(s) }
