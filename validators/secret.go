package validators

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/hookgate/hookgate/configs"
)

// Messages of SPEC §3.1.
const (
	msgWrongToken      = "Wrong authentication token provided"
	msgBadCredentials  = "invalid credentials"
	msgAddressRejected = "address not allowed"
)

// digestSet holds SHA-256 digests of accepted values. Comparing digests
// keeps the comparison constant-time in the length of the secret too.
type digestSet [][sha256.Size]byte

func newDigestSet(values []string, prefix string) digestSet {
	ds := make(digestSet, len(values))
	for i, v := range values {
		ds[i] = sha256.Sum256([]byte(prefix + v))
	}
	return ds
}

// match reports whether value is one of the set, comparing against every
// entry so the time does not depend on which one matched.
func (ds digestSet) match(value string) bool {
	d := sha256.Sum256([]byte(value))
	ok := 0
	for i := range ds {
		ok |= subtle.ConstantTimeCompare(d[:], ds[i][:])
	}
	return ok == 1
}

// tokenValidator passes when a header equals prefix + one of the secrets:
// header_secret, and the gitlab preset (its token header).
type tokenValidator struct {
	key, name   string // canonical header key, and the name as configured
	accepted    digestSet
	missing     string // message when the header is absent
	wrong       string // message when it does not match
	prefix, one string // for Sign: the prefix and the first secret
}

var _ Validator = (*tokenValidator)(nil)

func newHeaderSecret(c configs.HeaderSecret, path string) (*tokenValidator, error) {
	if c.Header == "" {
		return nil, fmt.Errorf("%s.header: missing; name the header that carries the secret", path)
	}
	secrets := c.AllSecrets()
	if len(secrets) == 0 {
		return nil, fmt.Errorf("%s.secret: missing; set secret or secrets", path)
	}
	return &tokenValidator{
		key: textproto.CanonicalMIMEHeaderKey(c.Header), name: c.Header,
		accepted: newDigestSet(secrets, c.Prefix),
		missing:  msgWrongToken, wrong: msgWrongToken,
		prefix: c.Prefix, one: secrets[0],
	}, nil
}

// newGitLab builds the token check of preset p (gitlab): p.Header carries
// one of the secrets as written.
func newGitLab(c configs.HMAC, p configs.Preset, path string) (*tokenValidator, error) {
	secrets := c.AllSecrets()
	if len(secrets) == 0 {
		return nil, fmt.Errorf("%s.secret: missing; set secret or secrets", path)
	}
	if extra := genericKeysWithPreset(c); len(extra) > 0 {
		return nil, fmt.Errorf("%s.%s: not allowed with preset %s; remove it", path, extra[0], p.Name)
	}
	return &tokenValidator{
		key: textproto.CanonicalMIMEHeaderKey(p.Header), name: p.Header, accepted: newDigestSet(secrets, ""),
		missing: "missing signature header " + p.Header, wrong: "invalid signature",
		one: secrets[0],
	}, nil
}

// Validate compares the header with every accepted value.
func (v *tokenValidator) Validate(_ context.Context, r *Request) error {
	value := firstHeader(r.Header, v.key)
	if value == "" {
		return &Rejection{Status: http.StatusUnauthorized, Message: v.missing}
	}
	if !v.accepted.match(value) {
		return &Rejection{Status: http.StatusUnauthorized, Message: v.wrong}
	}
	return nil
}

// NeedsBody is false: the token is a header.
func (v *tokenValidator) NeedsBody() bool { return false }

func (v *tokenValidator) sign(h http.Header) { h[v.key] = []string{v.prefix + v.one} }

// basicAuthValidator passes on HTTP basic credentials.
type basicAuthValidator struct {
	user      [sha256.Size]byte
	passwords digestSet
	username  string // for Sign
	password  string // for Sign: the first password
}

var _ Validator = (*basicAuthValidator)(nil)

func newBasicAuth(c configs.BasicAuth, path string) (*basicAuthValidator, error) {
	if c.Username == "" {
		return nil, fmt.Errorf("%s.username: missing; set the expected user name", path)
	}
	pw := c.AllPasswords()
	if len(pw) == 0 {
		return nil, fmt.Errorf("%s.password: missing; set password or passwords", path)
	}
	return &basicAuthValidator{
		user: sha256.Sum256([]byte(c.Username)), passwords: newDigestSet(pw, ""),
		username: c.Username, password: pw[0],
	}, nil
}

func (v *basicAuthValidator) reject() error {
	return &Rejection{
		Status:  http.StatusUnauthorized,
		Message: msgBadCredentials,
		Header:  http.Header{"Www-Authenticate": {`Basic realm="hookgate"`}},
	}
}

// Validate checks the Authorization header.
func (v *basicAuthValidator) Validate(_ context.Context, r *Request) error {
	user, pass, ok := parseBasicAuth(firstHeader(r.Header, "Authorization"))
	if !ok {
		return v.reject()
	}
	u := sha256.Sum256([]byte(user))
	// Both checks always run, so timing does not reveal a right user name.
	userOK := subtle.ConstantTimeCompare(u[:], v.user[:]) == 1
	passOK := v.passwords.match(pass)
	if !userOK || !passOK {
		return v.reject()
	}
	return nil
}

// NeedsBody is false: the credentials are a header.
func (v *basicAuthValidator) NeedsBody() bool { return false }

func (v *basicAuthValidator) sign(h http.Header) {
	h["Authorization"] = []string{"Basic " + base64.StdEncoding.EncodeToString([]byte(v.username+":"+v.password))}
}

// parseBasicAuth reads "Basic base64(user:password)", the scheme
// case-insensitive (RFC 7617).
func parseBasicAuth(auth string) (user, pass string, ok bool) {
	const scheme = "Basic "
	if len(auth) < len(scheme) || !strings.EqualFold(auth[:len(scheme)], scheme) {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(auth[len(scheme):]))
	if err != nil {
		return "", "", false
	}
	user, pass, ok = strings.Cut(string(raw), ":")
	return user, pass, ok
}
