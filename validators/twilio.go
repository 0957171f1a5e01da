package validators

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"

	"github.com/hookgate/hookgate/configs"
)

// twilioValidator checks Twilio's signature header (the configs preset
// table has its name, algorithm and encoding: base64 HMAC-SHA1), keyed with
// the auth token, of the URL Twilio called followed by every form
// parameter name and value, sorted by name. A JSON body is covered instead
// by the bodySHA256 query parameter Twilio adds to the URL.
type twilioValidator struct {
	key, name string // canonical signature header key, and the name as Twilio spells it
	newHash   func() hash.Hash
	size      int
	enc       encoding
	keys      [][]byte
	public    *url.URL // public_url, the address configured in Twilio
	maxForm   int64    // larger form bodies are refused rather than held in memory
}

var _ Validator = (*twilioValidator)(nil)

// newTwilio builds the check of preset p (twilio).
func newTwilio(c configs.HMAC, p configs.Preset, path string) (*twilioValidator, error) {
	secrets := c.AllSecrets()
	if len(secrets) == 0 {
		return nil, fmt.Errorf("%s.secret: missing; set the Twilio auth token as secret or secrets", path)
	}
	if extra := genericKeysWithPreset(c); len(extra) > 0 {
		return nil, fmt.Errorf("%s.%s: not allowed with preset twilio; remove it", path, extra[0])
	}
	if c.PublicURL == "" {
		return nil, fmt.Errorf("%s.public_url: missing; set the URL Twilio calls, exactly as configured in Twilio", path)
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s.public_url: %q is not an absolute http(s) URL; write it as configured in Twilio, e.g. https://hooks.example.com/webhooks/sms", path, c.PublicURL)
	}
	newHash, size, _ := hashFor(p.Algorithm)
	enc, _ := encodingFor(p.Encoding)
	v := &twilioValidator{
		key: textproto.CanonicalMIMEHeaderKey(p.Header), name: p.Header,
		newHash: newHash, size: size, enc: enc, public: u, maxForm: 1 << 20,
	}
	for _, s := range secrets {
		v.keys = append(v.keys, []byte(s))
	}
	return v, nil
}

// urls returns the URLs Twilio may have signed: the public URL with the
// query as received (Twilio signs the URL it called, and adds bodySHA256
// to it), and the same with the default port added or removed, since
// Twilio's own libraries accept either form.
func (v *twilioValidator) urls(rawQuery string) []string {
	u := *v.public
	if rawQuery != "" {
		u.RawQuery = rawQuery
	}
	out := []string{u.String()}
	alt := u
	if alt.Port() != "" {
		alt.Host = alt.Hostname()
		if strings.Contains(alt.Host, ":") {
			alt.Host = "[" + alt.Host + "]"
		}
	} else if alt.Scheme == "https" {
		alt.Host += ":443"
	} else {
		alt.Host += ":80"
	}
	return append(out, alt.String())
}

// NeedsBody is true: form parameters are signed, other bodies hashed.
func (v *twilioValidator) NeedsBody() bool { return true }

// Validate checks the signature over the public URL and the parameters.
func (v *twilioValidator) Validate(ctx context.Context, r *Request) error {
	reject := func(msg string) error { return &Rejection{Status: http.StatusUnauthorized, Message: msg} }
	value := strings.TrimSpace(firstHeader(r.Header, v.key))
	if value == "" {
		return reject("missing signature header " + v.name)
	}
	got, ok := v.enc.decodeAppend(nil, value, v.size, new([]byte))
	if !ok {
		return reject("invalid signature")
	}
	var rawQuery string
	if r.URL != nil {
		rawQuery = r.URL.RawQuery
	}
	params, err := v.params(ctx, r, rawQuery)
	if err != nil {
		return err
	}
	matched := false
	for _, u := range v.urls(rawQuery) {
		for _, k := range v.keys {
			if hmac.Equal(v.mac(k, u, params), got) {
				matched = true
			}
		}
	}
	if !matched {
		return reject("invalid signature")
	}
	return nil
}

// params returns the signed parameters: the form fields of a form body, or
// none when the URL carries bodySHA256, which must then match the body.
func (v *twilioValidator) params(ctx context.Context, r *Request, rawQuery string) (url.Values, error) {
	reject := func(msg string) error { return &Rejection{Status: http.StatusUnauthorized, Message: msg} }
	q, _ := url.ParseQuery(rawQuery)
	if want := q.Get("bodySHA256"); want != "" {
		h := sha256.New()
		var buf []byte
		if err := streamBody(ctx, r.Body, &buf, func(p []byte) { h.Write(p) }); err != nil {
			return nil, err
		}
		sum := hex.EncodeToString(h.Sum(nil))
		if !hmac.Equal([]byte(sum), []byte(strings.ToLower(want))) {
			return nil, reject("invalid signature: bodySHA256 does not match the body")
		}
		return nil, nil
	}
	if r.Body == nil || r.Body.Size() == 0 {
		return nil, nil
	}
	if !isForm(r.Header.Get("Content-Type")) {
		return nil, reject("invalid signature: a Twilio body must be a form, or be covered by bodySHA256 in the URL")
	}
	if r.Body.Size() > v.maxForm {
		// The parameters must be sorted, so they would all be held in
		// memory; Twilio's forms are a few KiB, so a huge one is not Twilio.
		return nil, reject(fmt.Sprintf("invalid signature: form body over %d bytes", v.maxForm))
	}
	raw := r.Body.Bytes()
	if raw == nil {
		rd := r.Body.Open()
		b, err := io.ReadAll(io.LimitReader(rd, v.maxForm))
		if c, ok := rd.(io.Closer); ok {
			c.Close()
		}
		if err != nil {
			return nil, fmt.Errorf("read body for twilio signature: %w", err)
		}
		raw = b
	}
	params, err := url.ParseQuery(string(raw))
	if err != nil {
		return nil, reject("invalid signature: form body does not parse")
	}
	return params, nil
}

func isForm(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// mac computes the signature as Twilio's libraries do: the URL, then for
// each name in sorted order, name+value for each of its values, sorted.
func (v *twilioValidator) mac(key []byte, u string, params url.Values) []byte {
	m := hmac.New(v.newHash, key)
	io.WriteString(m, u)
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		vals := slices.Clone(params[k])
		slices.Sort(vals)
		for _, val := range vals {
			io.WriteString(m, k)
			io.WriteString(m, val)
		}
	}
	return m.Sum(nil)
}

// sign sets the signature header for a request to rawURL with this body.
func (v *twilioValidator) sign(h http.Header, rawURL string, body []byte) error {
	var rawQuery string
	if rawURL != "" {
		u, err := url.Parse(rawURL)
		if err != nil {
			return fmt.Errorf("twilio: parse URL %q: %w", rawURL, err)
		}
		rawQuery = u.RawQuery
	}
	q, _ := url.ParseQuery(rawQuery)
	var params url.Values
	switch {
	case q.Get("bodySHA256") != "" || len(body) == 0:
	case isForm(h.Get("Content-Type")):
		var err error
		if params, err = url.ParseQuery(string(body)); err != nil {
			return fmt.Errorf("twilio: body is not a valid form: %w", err)
		}
	default:
		return errors.New("twilio: only form bodies (Content-Type application/x-www-form-urlencoded) are signed; for another body add bodySHA256=<hex SHA-256 of the body> to the URL's query")
	}
	mac := v.mac(v.keys[0], v.urls(rawQuery)[0], params)
	h[v.key] = []string{v.enc.encode(mac)}
	return nil
}
