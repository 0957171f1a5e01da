package admin

import (
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookgate/hookgate/configs"
)

// secrets are configured below and must never appear in an admin answer.
var secrets = []string{"hdr-secret-1", "hdr-secret-2", "gh-secret", "basic-pw", "t0ken-for-tests"}

const webhooksConfig = `
admin: {listen: "127.0.0.1:0", token: t0ken-for-tests}
webhooks:
  - name: ERP Orders
    incoming: orders
    additional_incoming: [audit]
    methods: [POST, PUT]
    pre_processors:
      - header_secret: {header: X-Auth, secrets: [hdr-secret-1, hdr-secret-2]}
      - ip_allowlist: {cidrs: [127.0.0.0/8, "::1/128"]}
  - name: GitHub
    identifier: gh
    incoming: orders
    pre_processors:
      - hmac: {preset: github, secret: gh-secret}
  - name: Old
    incoming: orders
    disabled: true
    pre_processors:
      - basic_auth: {username: u, password: basic-pw}
  - name: Accepted
    incoming: orders
    post_processors:
      - respond: {status: 202, body: '{"ok":true}'}
incoming:
  - {name: orders, parser: json}
  - {name: audit, parser: raw}
`

func TestTheAPINeedsTheTokenAndMetricsDoNot(t *testing.T) {
	s := startStack(t, webhooksConfig)
	for _, tc := range []apiCase{
		{"no header is 401", "GET", "/api/v1/webhooks", nil, 401, "missing admin token; send Authorization: Bearer <admin.token>"},
		{"a wrong token is 401", "GET", "/api/v1/webhooks", []string{"Authorization: Bearer nope"}, 401, "wrong admin token"},
		{"a token prefix is 401", "GET", "/api/v1/routes", []string{"Authorization: Bearer t0ken"}, 401, "wrong admin token"},
		{"basic auth is 401", "GET", "/api/v1/webhooks", []string{"Authorization: Basic dDBrZW4="}, 401, "missing admin token; send Authorization: Bearer <admin.token>"},
		{"reload without a token is 401", "POST", "/api/v1/reload", nil, 401, "missing admin token; send Authorization: Bearer <admin.token>"},
		{"the right token passes", "GET", "/api/v1/webhooks", []string{"Authorization: Bearer " + testToken}, 200, ""},
		{"the scheme is case-insensitive", "GET", "/api/v1/webhooks", []string{"Authorization: bearer " + testToken}, 200, ""},
		{"a wrong method is 405", "DELETE", "/api/v1/webhooks", []string{"Authorization: Bearer " + testToken}, 405, "method not allowed; use GET"},
		{"reload needs POST", "GET", "/api/v1/reload", []string{"Authorization: Bearer " + testToken}, 405, "method not allowed; use POST"},
		{"an unknown path is 404 JSON", "GET", "/api/v1/nothing", []string{"Authorization: Bearer " + testToken}, 404, "not found"},
		{"an unknown path without a token is 401", "GET", "/api/v1/nothing", nil, 401, "missing admin token; send Authorization: Bearer <admin.token>"},
		{"metrics need no token", "GET", "/metrics", nil, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.check(t, s.admin.URL)
			if tc.status == 401 && r.Header.Get("WWW-Authenticate") == "" {
				t.Error("a 401 without WWW-Authenticate")
			}
		})
	}
}

func TestAnEmptyTokenIsAcceptedOnlyOnLoopback(t *testing.T) {
	reg := prometheus.NewRegistry()
	current := func() *configs.Config { return &configs.Config{} }
	for _, tc := range []struct {
		listen string
		ok     bool
	}{
		{"127.0.0.1:8081", true},
		{"localhost:8081", true},
		{"[::1]:8081", true},
		{"0.0.0.0:8081", false},
		{":8081", false},
		{"10.0.0.5:8081", false},
	} {
		t.Run(tc.listen, func(t *testing.T) {
			a, err := New(Options{Listen: tc.listen, Gatherer: reg, Current: current})
			if tc.ok != (err == nil) {
				t.Fatalf("New with an empty token on %s: err %v, want ok=%v", tc.listen, err, tc.ok)
			}
			if err != nil {
				if !strings.Contains(err.Error(), "admin.token") {
					t.Errorf("the error does not name admin.token: %v", err)
				}
				return
			}
			// Open on loopback: the API answers without a header.
			srv := httptestServer(t, a)
			if r := do(t, "GET", srv+"/api/v1/webhooks", ""); r.Status != http.StatusOK {
				t.Errorf("open API on loopback: %d %s", r.Status, r.Body)
			}
		})
	}
}

func TestWebhooksListsTheConfigWithoutSecrets(t *testing.T) {
	s := startStack(t, webhooksConfig)
	r := s.api("GET", "/api/v1/webhooks")
	if r.Status != http.StatusOK {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	for _, secret := range secrets {
		if strings.Contains(r.Body, secret) {
			t.Errorf("the answer shows the secret %q:\n%s", secret, r.Body)
		}
	}
	var got struct{ Webhooks []webhookView }
	r.json(t, &got)
	want := []webhookView{
		{Identifier: "erp-orders", Name: "ERP Orders", Incoming: "orders", AdditionalIncoming: []string{"audit"},
			Methods: []string{"POST", "PUT"}, Validators: []validatorView{{Kind: "header_secret"}, {Kind: "ip_allowlist"}}},
		{Identifier: "gh", Name: "GitHub", Incoming: "orders", AdditionalIncoming: []string{},
			Methods: []string{"POST"}, Validators: []validatorView{{Kind: "hmac", Preset: "github"}}},
		{Identifier: "old", Name: "Old", Incoming: "orders", AdditionalIncoming: []string{},
			Methods: []string{"POST"}, Disabled: true, Validators: []validatorView{{Kind: "basic_auth"}}},
		{Identifier: "accepted", Name: "Accepted", Incoming: "orders", AdditionalIncoming: []string{},
			Methods: []string{"POST"}, Validators: []validatorView{}},
	}
	if len(got.Webhooks) != len(want) {
		t.Fatalf("%d webhooks, want %d: %s", len(got.Webhooks), len(want), r.Body)
	}
	for i := range want {
		if g, w := mustJSON(t, got.Webhooks[i]), mustJSON(t, want[i]); g != w {
			t.Errorf("webhook %d:\n got %s\nwant %s", i, g, w)
		}
	}
}
