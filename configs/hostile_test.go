package configs

import "testing"

// SPEC §11: the rules that keep a configuration from opening hookgate to a
// hostile sender, destination or network.

func TestValidateSignedTimestamp(t *testing.T) {
	const pre = "webhooks[0].pre_processors[0]"
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"a timestamp header outside the signed payload is refused", preDoc(`hmac: {header: X-Sig, algorithm: sha256, signed_payload: "{id}.{body}", id_header: X-Id, timestamp_header: X-Ts, secret: s}`),
			[]string{`t.yaml:6: ` + pre + `.hmac.signed_payload: "{id}.{body}" does not sign the timestamp of timestamp_header, so a captured signature replays with a fresh timestamp; add {timestamp}`}},
		{"the default payload with a timestamp header is refused", preDoc(`hmac: {header: X-Sig, algorithm: sha256, timestamp_header: X-Ts, tolerance: 1m, secret: s}`),
			[]string{pre + `.hmac.signed_payload: "{body}" does not sign the timestamp`}},
		{"a signed timestamp is valid", preDoc(`hmac: {header: X-Sig, algorithm: sha256, signed_payload: "{timestamp}.{body}", timestamp_header: X-Ts, secret: s}`), nil},
		{"no timestamp header needs no timestamp", preDoc(`hmac: {header: X-Sig, algorithm: sha256, secret: s}`), nil},
		{"outgoing signing follows the same rule", outDoc(`url: "https://e.example.com", signing: {header: X-Sig, algorithm: sha256, timestamp_header: X-Ts, secret: s}`, ""),
			[]string{`outgoing[0].signing.signed_payload: "{body}" does not sign the timestamp`}},
		{"outgoing signing with a signed timestamp is valid", outDoc(`url: "https://e.example.com", signing: {header: X-Sig, algorithm: sha256, signed_payload: "{timestamp}.{body}", timestamp_header: X-Ts, secret: s}`, ""), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := parseDoc(t, tt.doc, nil)
			checkProblems(t, ps, tt.want)
		})
	}
}

func TestValidateTokenURL(t *testing.T) {
	profile := func(tokenURL, domains string) string {
		return `{name: p, type: oauth2_client_credentials, client_id: i, client_secret: cs, token_url: "` + tokenURL + `", allowed_domains: [` + domains + `]}`
	}
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"a token host inside allowed_domains is valid", outDoc(`url: "https://erp.example.com", auth: p`, profile("https://login.example.com/t", "erp.example.com, login.example.com")), nil},
		{"a wildcard covers the token host", outDoc(`url: "https://erp.example.com", auth: p`, profile("https://login.example.com/t", `"*.example.com"`)), nil},
		{"a token host outside allowed_domains is refused", outDoc(`url: "https://erp.example.com", auth: p`, profile("https://login.evil.example/t", "erp.example.com")),
			[]string{"t.yaml:3: auth_profiles[0].token_url: host login.evil.example is outside allowed_domains (erp.example.com); the client secret is sent there"}},
		{"a refused token address is refused for an outgoing without allow_private_networks",
			"outgoing:\n  - {name: a, url: \"http://127.0.0.1:1/\", auth: p, allow_private_networks: true}\n  - {name: b, url: \"http://127.0.0.1:2/\", auth: p, allow_private_networks: false}\n  - {name: c, url: \"https://erp.example.com/\"}\nauth_profiles: [" + profile("http://169.254.169.254/token", "127.0.0.1, 169.254.169.254") + "]\n",
			[]string{`auth_profiles[0].token_url: host 169.254.169.254 is in 169.254.0.0/16 (link-local, cloud metadata), an address deliveries refuse (SPEC §11), and outgoing b using this profile does not set allow_private_networks: true; set it on every outgoing using "p"`}},
		{"a refused token address is valid when every outgoing using it allows private networks",
			outDoc(`url: "http://127.0.0.1:1/", auth: p, allow_private_networks: true`, profile("http://127.0.0.1:9/token", "127.0.0.1")), nil},
		{"a NAT64 token address is judged by its IPv4", outDoc(`url: "https://erp.example.com", auth: p`, profile("http://[64:ff9b::a9fe:a9fe]/t", `erp.example.com, "64:ff9b::a9fe:a9fe"`)),
			[]string{"auth_profiles[0].token_url: host 64:ff9b::a9fe:a9fe is the NAT64 form of 169.254.169.254"}},
		{"a numeric token host is refused", outDoc(`url: "https://erp.example.com", auth: p`, profile("http://2852039166/t", "erp.example.com")),
			[]string{"auth_profiles[0].token_url: host 2852039166 is a number"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := parseDoc(t, tt.doc, nil)
			checkProblems(t, ps, tt.want)
		})
	}
}

func TestValidateEmbeddedAuth(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"all interfaces without auth are refused", `nats: {embedded: {listen: "0.0.0.0:4222"}}`,
			[]string{`t.yaml:1: nats.embedded.auth: required when nats.embedded.listen "0.0.0.0:4222" is not a loopback address: anyone reaching it could publish tasks past every validator or delete the streams`}},
		{"a port alone is every interface", "nats:\n  embedded:\n    listen: \":4222\"\n", []string{`t.yaml:2: nats.embedded.auth: required when nats.embedded.listen ":4222"`}},
		{"an IPv6 wildcard without auth is refused", `nats: {embedded: {listen: "[::]:4222"}}`, []string{"nats.embedded.auth: required"}},
		{"a LAN address without auth is refused", `nats: {embedded: {listen: "10.1.2.3:4222"}}`, []string{"nats.embedded.auth: required"}},
		{"loopback needs no auth", `nats: {embedded: {listen: "127.0.0.1:4222"}}`, nil},
		{"IPv6 loopback needs no auth", `nats: {embedded: {listen: "[::1]:4222"}}`, nil},
		{"localhost needs no auth", `nats: {embedded: {listen: "localhost:4222"}}`, nil},
		{"in-process only needs no auth", `nats: {embedded: {listen: ""}}`, nil},
		{"a token on all interfaces is valid", `nats: {embedded: {listen: ":4222", auth: {token: s3cret-t0ken}}}`, nil},
		{"user and password on all interfaces are valid", `nats: {embedded: {listen: ":4222", auth: {user: hookgate, password: s3cret-pw}}}`, nil},
		{"auth on loopback is valid too", `nats: {embedded: {auth: {token: s3cret-t0ken}}}`, nil},
		{"an empty token from the environment is refused off loopback", `nats: {embedded: {listen: ":4222", auth: {token: "${NATS_TOKEN:-}"}}}`, []string{"nats.embedded.auth: required"}},
		{"token and user together are refused", `nats: {embedded: {auth: {token: t0ken-x, user: u, password: p4ssword}}}`,
			[]string{"nats.embedded.auth: both token and user/password; use {token: …} or {user: …, password: …}, not both"}},
		{"a user without password is refused", `nats: {embedded: {auth: {user: u}}}`, []string{"nats.embedded.auth.password: required with user"}},
		{"a password without user is refused", `nats: {embedded: {auth: {password: p4ssword}}}`, []string{"nats.embedded.auth.user: required with password"}},
		{"a bcrypt hash as token is refused", `nats: {embedded: {auth: {token: "$2a$11$PWIFAL8RsWyGI3jVZtO9Nu8.6jOxzxfZo7c/W0eLk017hjgUKWrhy"}}}`,
			[]string{"nats.embedded.auth: a bcrypt hash ($2a$…) as token or password; hookgate presents the value as written"}},
		{"an unknown auth key is refused", `nats: {embedded: {auth: {nkey: x}}}`, []string{"nats.embedded.auth.nkey: unknown key; allowed: token, user, password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := parseDoc(t, tt.doc, nil)
			checkProblems(t, ps, tt.want)
		})
	}
}
