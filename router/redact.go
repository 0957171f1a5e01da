package router

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"html"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/hookgate/hookgate/configs"
)

// mask is what a secret becomes in everything hookgate keeps.
const mask = "***"

// maxRememberedTokens is how many OAuth2 access tokens of one outgoing stay
// masked: the current one and a few before it, which attempts still on the
// wire may have sent.
const maxRememberedTokens = 4

// redactor replaces every secret an outgoing sends with "***" in what
// hookgate keeps of its answers: the attempt log's response, the error
// that becomes hookgate-error and the process log (SPEC §11). A
// destination that echoes a request may quote it as sent, JSON-escaped
// (with "/" as "\/", HTML characters as \u00XX, non-ASCII as \uXXXX, in
// either case of hex), URL-encoded or HTML-escaped: each secret is masked in
// all these spellings. It is safe for concurrent use.
type redactor struct {
	static []string // the outgoing's own secrets

	mu     sync.Mutex
	tokens []string // recent OAuth2 access tokens, oldest first
	set    atomic.Pointer[redactSet]
}

// redactSet is one immutable set of spellings to mask.
type redactSet struct {
	replacer *strings.Replacer // nil: nothing to mask
	forms    []string          // every spelling, longest first
	longest  int
}

// newRedactor collects the secrets of outgoing o and its auth profile p
// (nil: none).
func newRedactor(o configs.Outgoing, p *configs.AuthProfile) *redactor {
	var secrets []string
	for _, kv := range o.Headers {
		// The one list of SPEC §11 words, which validate and the config
		// errors mask by too.
		if configs.SecretHeader(kv.Key) {
			secrets = append(secrets, kv.Value)
		}
	}
	if o.Signing != nil {
		for _, s := range o.Signing.AllSecrets() {
			// A standard webhooks key is sent nowhere, but its base64 part
			// is what a careless echo of the config would show.
			secrets = append(secrets, s, strings.TrimPrefix(s, "whsec_"))
		}
	}
	if p != nil {
		switch p.Type {
		case "basic":
			secrets = append(secrets, p.Password, basic(p.Username, p.Password))
		case "bearer":
			secrets = append(secrets, p.Token)
		case "header":
			secrets = append(secrets, p.Value)
		case "oauth2_client_credentials":
			// Both ways golang.org/x/oauth2 sends client credentials.
			secrets = append(secrets, p.ClientSecret, basic(p.ClientID, p.ClientSecret),
				basic(url.QueryEscape(p.ClientID), url.QueryEscape(p.ClientSecret)))
		}
	}
	r := &redactor{static: secrets}
	r.set.Store(buildRedactSet(secrets))
	return r
}

func basic(user, password string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
}

// remember masks an OAuth2 access token from now on.
func (r *redactor) remember(token string) {
	if token == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if slices.Contains(r.tokens, token) {
		return
	}
	r.tokens = append(r.tokens, token)
	if len(r.tokens) > maxRememberedTokens {
		r.tokens = slices.Delete(r.tokens, 0, 1)
	}
	r.set.Store(buildRedactSet(append(slices.Clone(r.static), r.tokens...)))
}

func buildRedactSet(secrets []string) *redactSet {
	seen := map[string]bool{}
	var forms []string
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, f := range spellings(s) {
			if f != "" && !seen[f] {
				seen[f] = true
				forms = append(forms, f)
			}
		}
	}
	// strings.Replacer tries its patterns in argument order at each
	// position: longest first, so "Basic" credentials mask whole.
	slices.SortFunc(forms, func(a, b string) int { return cmp.Or(cmp.Compare(len(b), len(a)), strings.Compare(a, b)) })
	set := &redactSet{forms: forms}
	if len(forms) > 0 {
		set.longest = len(forms[0])
		pairs := make([]string, 0, 2*len(forms))
		for _, f := range forms {
			pairs = append(pairs, f, mask)
		}
		set.replacer = strings.NewReplacer(pairs...)
	}
	return set
}

// spellings are the ways s may appear in an answer that quotes it.
func spellings(s string) []string {
	out := []string{s, url.QueryEscape(s), url.PathEscape(s), html.EscapeString(s)}
	for _, htmlSafe := range []bool{false, true} {
		for _, ascii := range []bool{false, true} {
			for _, upper := range []bool{false, true} {
				esc := jsonEscape(s, htmlSafe, ascii, upper)
				out = append(out, esc, strings.ReplaceAll(esc, "/", `\/`))
			}
		}
	}
	return out
}

// jsonEscape is s as inside a JSON string: htmlSafe escapes < > & as Go's
// encoding/json does, ascii escapes every non-ASCII rune as Python's json
// does, upper writes \u hex digits in upper case.
func jsonEscape(s string, htmlSafe, ascii, upper bool) string {
	hex := "\\u%04x"
	if upper {
		hex = "\\u%04X"
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20, htmlSafe && (r == '<' || r == '>' || r == '&'), r == '\u2028' || r == '\u2029':
			fmt.Fprintf(&b, hex, r)
		case ascii && r > 0x7e && r <= 0xffff:
			fmt.Fprintf(&b, hex, r)
		case ascii && r > 0xffff:
			r1, r2 := utf16Pair(r)
			fmt.Fprintf(&b, hex+hex, r1, r2)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}

// text masks every secret in s.
func (r *redactor) text(s string) string {
	if r == nil {
		return s
	}
	set := r.set.Load()
	if set.replacer == nil {
		return s
	}
	return set.replacer.Replace(s)
}

// captureLimit is how much of an answer to capture so that a secret
// straddling the MaxLoggedResponse cut is seen whole before the cut.
func (r *redactor) captureLimit() int {
	if r == nil {
		return MaxLoggedResponse
	}
	return MaxLoggedResponse + r.set.Load().longest
}

// response is what the attempt log keeps of an answer: its secrets masked,
// then cut to MaxLoggedResponse. When the answer went on past what was
// captured or past the cut, an ending that begins a secret is masked too:
// its rest was cut off, and its start is no less a secret.
func (r *redactor) response(captured []byte, truncated bool) string {
	s := r.text(string(captured))
	if len(s) > MaxLoggedResponse {
		s, truncated = s[:MaxLoggedResponse], true
	}
	if !truncated || r == nil {
		return s
	}
	cut := 0
	for _, f := range r.set.Load().forms {
		for k := min(len(f)-1, len(s)); k > cut; k-- {
			if strings.HasSuffix(s, f[:k]) {
				cut = k
				break
			}
		}
	}
	if cut > 0 {
		s = s[:len(s)-cut] + mask
	}
	return s
}

// redactedError is an error whose text has its secrets masked; errors.Is
// and errors.As still see the cause.
type redactedError struct {
	msg   string
	cause error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.cause }

// err masks the secrets in err's text, keeping it valid UTF-8.
func (r *redactor) err(err error) error {
	if err == nil || r == nil {
		return err
	}
	msg := r.text(err.Error())
	if !utf8.ValidString(msg) {
		msg = strings.ToValidUTF8(msg, "\uFFFD")
	}
	return &redactedError{msg: msg, cause: err}
}
