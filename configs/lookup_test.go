package configs

import (
	"reflect"
	"testing"
)

const secretsDoc = `admin: {listen: ":8081", token: admin-tok}
nats: {url: "nats://url-tok@n:4222,nats://x:url-pw@m:4222", user: u, password: nats-pw}
incoming: [{name: in}]
webhooks:
  - name: w
    incoming: in
    pre_processors:
      - header_secret: {header: X-A, secret: hs-1, secrets: [hs-2]}
      - basic_auth: {username: erp, password: ba-1, passwords: [ba-2]}
      - hmac: {preset: github, secret: gh-1}
      - hmac: {preset: github, secret: gh-1}
      - ip_allowlist: {cidrs: [10.0.0.0/8]}
  - {name: off, incoming: in, disabled: true}
outgoing:
  - {name: out, url: "https://erp.example.com/", auth: p1, signing: {preset: github, secret: sign-1}, headers: {X-Version: "2", x-api-key: hdr-key-1}}
  - {name: out2, url: "https://erp.example.com/", auth: p2}
routes:
  - {name: r, incoming: in, outgoing: [out]}
  - {name: r-off, incoming: in, outgoing: [out2], disabled: true}
auth_profiles:
  - {name: p1, type: oauth2_client_credentials, client_id: id, client_secret: cs-1, token_url: "https://login.example.com/t", allowed_domains: [erp.example.com, login.example.com]}
  - {name: p2, type: header, header: X-Key, value: hv-1, allowed_domains: [erp.example.com]}
`

func TestSecrets(t *testing.T) {
	cfg, ps := parseDoc(t, secretsDoc, nil)
	checkProblems(t, ps, nil)
	want := []string{"admin-tok", "nats-pw", "url-tok", "url-pw", "hs-1", "hs-2", "ba-1", "ba-2", "gh-1", "sign-1", "hdr-key-1", "cs-1", "hv-1"}
	if got := cfg.Secrets(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Secrets() = %q; want %q (each once, none empty)", got, want)
	}
}

func TestLookups(t *testing.T) {
	cfg, ps := parseDoc(t, secretsDoc, nil)
	checkProblems(t, ps, nil)
	if got, want := cfg.Summary(), "ok: 2 webhooks, 1 incoming, 2 outgoing, 2 routes"; got != want {
		t.Errorf("Summary() = %q; want %q", got, want)
	}
	tests := []struct {
		name  string
		found bool
		want  bool
	}{
		{"webhook by identifier", found(cfg.WebhookByIdentifier("w")), true},
		{"disabled webhook is still found", found(cfg.WebhookByIdentifier("off")), true},
		{"unknown identifier", found(cfg.WebhookByIdentifier("nope")), false},
		{"incoming by name", found(cfg.IncomingByName("in")), true},
		{"outgoing by name", found(cfg.OutgoingByName("out2")), true},
		{"auth profile by name", found(cfg.AuthProfileByName("p2")), true},
		{"route by name", found(cfg.RouteByName("r-off")), true},
		{"unknown route", found(cfg.RouteByName("x")), false},
	}
	for _, tt := range tests {
		if tt.found != tt.want {
			t.Errorf("%s: found %v; want %v", tt.name, tt.found, tt.want)
		}
	}
	if rs := cfg.RoutesFor("in"); len(rs) != 1 || rs[0].Name != "r" {
		t.Errorf("RoutesFor(in) = %v; want only the enabled route r", rs)
	}
	w, _ := cfg.WebhookByIdentifier("w")
	w.Description = "changed"
	if cfg.Webhooks[0].Description != "changed" {
		t.Error("WebhookByIdentifier returned a copy; want a pointer into the config")
	}
}

func found[T any](_ *T, ok bool) bool { return ok }
