package router

import (
	"fmt"
	"net/http"

	"github.com/hookgate/hookgate/configs"
)

// newTokenClient reaches the OAuth2 token endpoint of an outgoing's auth
// profile through the deliveries' guardedTransport (SPEC §11: the same
// address guard, timeout and no proxy), and follows no redirect (it would
// carry the client secret elsewhere). It returns the transport too, so
// that Stop can close its idle connections.
func newTokenClient(o configs.Outgoing) (*http.Client, *http.Transport) {
	tr := guardedTransport(o, 2)
	// The oauth2 package needs an *http.Client. Its redirect handling never
	// runs: noRedirects turns a 3xx into an error before the client sees
	// it (a CheckRedirect hook would come after the client has already
	// parsed, and errored on, a malformed Location).
	return &http.Client{Transport: noRedirects{tr}, Timeout: o.Timeout}, tr
}

// noRedirects fails every exchange answered with a 3xx.
type noRedirects struct{ next http.RoundTripper }

func (t noRedirects) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode < 300 || resp.StatusCode >= 400 {
		return resp, err
	}
	_ = resp.Body.Close()
	return nil, errRedirect(resp)
}

// checkTokenURL refuses a token_url the client secret must not be sent to:
// not absolute http(s), or a host outside the profile's allowed_domains.
func checkTokenURL(p configs.AuthProfile) error {
	u, err := parseAbsolute(p.TokenURL)
	if err != nil {
		return fmt.Errorf("auth profile %q: token_url %q is not an absolute http or https URL", p.Name, redactURL(p.TokenURL))
	}
	if !allowedHost(p.AllowedDomains, u.Hostname()) {
		return fmt.Errorf("auth profile %q: token_url host %q is outside allowed_domains; add it there (the client secret is sent to it)", p.Name, u.Hostname())
	}
	return nil
}
