package router

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/configs"
)

func oauthProfile(tokenURL string, domains ...string) configs.AuthProfile {
	return configs.AuthProfile{Name: "erp-oauth", Type: "oauth2_client_credentials", ClientID: "hookgate",
		ClientSecret: "s3cret-client", Scope: "orders.write orders.read", TokenURL: tokenURL, AllowedDomains: domains}
}

// SPEC §11: the client secret goes only to a token_url inside the
// profile's allowed_domains; New refuses any other.
func TestNewRefusesATokenURLOutsideAllowedDomains(t *testing.T) {
	js := startJS(t)
	for _, tt := range []struct{ name, tokenURL, want string }{
		{"another host", "https://login.example.net/oauth2/token?key=secret-q",
			`auth profile "erp-oauth": token_url host "login.example.net" is outside allowed_domains; add it there (the client secret is sent to it)`},
		{"a relative URL", "/token?key=secret-q", `auth profile "erp-oauth": token_url "/token?…" is not an absolute http or https URL`},
		{"another scheme", "ftp://erp.example.com/token", `token_url "ftp://erp.example.com/token" is not an absolute http or https URL`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := testOutgoing("erp", "https://erp.example.com/api")
			out.Auth = "erp-oauth"
			cfg := testConfig(configs.Route{}, out)
			cfg.AuthProfiles = []configs.AuthProfile{oauthProfile(tt.tokenURL, "erp.example.com")}
			_, err := New(cfg, js, nil, "test")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New error %v; want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") && !strings.Contains(err.Error(), "the client secret is sent") {
				t.Errorf("error shows a secret: %v", err)
			}
		})
	}
}

// A token endpoint that redirects is a failed token fetch naming the
// redirect; the secret never reaches the redirect's target.
func TestTokenEndpointRedirectIsNotFollowed(t *testing.T) {
	other := newTokenServer(t, "hookgate", "s3cret-client")
	tokens := newReceiver(t, func(_ int, _ arrival, w http.ResponseWriter) {
		w.Header().Set("Location", other.URL+"/token")
		w.WriteHeader(http.StatusTemporaryRedirect)
	})
	dest := newReceiver(t, nil)
	p := oauthProfile(tokens.URL+"/token", "127.0.0.1")
	derr := sendOnce(t, testOutgoing("erp", dest.URL), &p, `{}`)
	want := "oauth2 token from " + tokens.URL + "/token: redirect 307 to 127.0.0.1 not followed"
	if derr == nil || !derr.retryable || derr.Error() != want {
		t.Fatalf("send = %v; want a retryable failure %q", derr, want)
	}
	if tokens.count() == 0 {
		t.Fatal("the token endpoint got no request")
	}
	if n := other.issued.Load(); n != 0 {
		t.Errorf("the redirect's target issued %d tokens", n)
	}
	if n := dest.count(); n != 0 {
		t.Errorf("the destination got %d requests without a token", n)
	}
}

// Without allow_private_networks the token request goes through the same
// address guard as the deliveries: a token endpoint on loopback is refused
// before any request, and the task is a dead letter at once with exactly
// "hookgate-error: destination address not allowed" (SPEC §6), as for a
// refused destination.
func TestTokenEndpointBehindTheAddressGuard(t *testing.T) {
	ts := newTokenServer(t, "hookgate", "s3cret-client")
	dest := newReceiver(t, nil)
	out := testOutgoing("erp", dest.URL)
	out.AllowPrivateNetworks = false
	p := oauthProfile(ts.URL+"/token", "127.0.0.1")
	derr := sendOnce(t, out, &p, `{}`)
	if derr == nil || derr.retryable || !errors.Is(derr, errAddressNotAllowed) || derr.Error() != "destination address not allowed" {
		t.Fatalf("send = %v; want a non-retryable %q", derr, errAddressNotAllowed)
	}
	if n := ts.issued.Load(); n != 0 {
		t.Errorf("the token endpoint on loopback issued %d tokens", n)
	}
	if n := dest.count(); n != 0 {
		t.Errorf("the destination got %d requests", n)
	}

	// With allow_private_networks the same endpoint is reached.
	out.AllowPrivateNetworks = true
	if derr := sendOnce(t, out, &p, `{}`); derr != nil {
		t.Fatalf("send with allow_private_networks: %v", derr)
	}
	if a := dest.wait(t, 1)[0]; a.header.Get("Authorization") != "Bearer tok-1" {
		t.Errorf("Authorization %q, want Bearer tok-1", a.header.Get("Authorization"))
	}
}

// No proxy from the environment: the guard must judge the token endpoint's
// own address, and the client secret must not cross a proxy hookgate was
// not configured with. (A loopback endpoint bypasses HTTP_PROXY anyway, so
// the transport itself is what can be checked.)
func TestTokenClientUsesNoProxy(t *testing.T) {
	t.Setenv("HTTPS_PROXY", "http://proxy.example.com:3128")
	t.Setenv("HTTP_PROXY", "http://proxy.example.com:3128")
	client, tr := newTokenClient(testOutgoing("erp", "https://erp.example.com/"))
	if tr.Proxy != nil {
		u, _ := tr.Proxy(&http.Request{URL: &url.URL{Scheme: "https", Host: "login.example.com"}})
		t.Errorf("the token transport has a proxy function (%v)", u)
	}
	if nr, ok := client.Transport.(noRedirects); !ok || nr.next != tr {
		t.Errorf("the token client's transport is %T, want noRedirects over its own transport", client.Transport)
	}
}
