package configs

import (
	"strings"
	"testing"
)

// hookDoc is a valid webhook "w" on incoming "in", with extra keys on the webhook.
func hookDoc(extra string) string {
	return "incoming: [{name: in}]\nwebhooks:\n  - {name: w, incoming: in, " + extra + "}\n"
}

// preDoc is a webhook with one pre-processor.
func preDoc(pre string) string {
	return "incoming: [{name: in}]\nwebhooks:\n  - name: w\n    incoming: in\n    pre_processors:\n      - " + pre + "\n"
}

// outDoc is an outgoing configuration "out" with the given keys, and auth profiles.
func outDoc(keys, profiles string) string {
	return "outgoing:\n  - {name: out, " + keys + "}\nauth_profiles: [" + profiles + "]\n"
}

func TestValidateSections(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"a listen address without port is refused", `server: {listen: "8080"}`, []string{`t.yaml:1: server.listen: invalid address "8080"; use host:port or :port`}},
		{"an empty server listen is refused", `server: {listen: ""}`, []string{"server.listen: required"}},
		{"a zero max_body is refused", `server: {max_body: 0}`, []string{"server.max_body: must be more than 0 bytes"}},
		{"a zero read timeout is refused", `server: {read_timeout: 0s}`, []string{"server.read_timeout: must be more than 0"}},
		{"an unknown log level is refused", `log: {level: verbose}`, []string{`log.level: unknown value "verbose"; use debug, info, warn or error`}},
		{"an unknown log format is refused", `log: {format: text}`, []string{`log.format: unknown value "text"; use json or console`}},
		{"admin on all interfaces needs a token", `admin: {listen: ":8081"}`, []string{"admin.token: required when admin.listen is not a loopback address"}},
		{"admin on loopback needs no token", `admin: {listen: "127.0.0.1:9000"}`, nil},
		{"admin on localhost needs no token", `admin: {listen: "localhost:9000"}`, nil},
		{"admin on all interfaces with a token is fine", `admin: {listen: ":8081", token: t0k3n}`, nil},
		{"admin disabled needs nothing", `admin: {listen: ""}`, nil},
		{"an external NATS URL is accepted", `nats: {url: "nats://a:4222, tls://b:4222", user: u, password: p}`, nil},
		{"an http NATS URL is refused", `nats: {url: "http://a:4222"}`, []string{`nats.url: invalid server URL "http://a:4222"`}},
		{"credentials without url are refused", `nats: {token: t}`, []string{"nats.token: only used with nats.url"}},
		{"user without password is refused", `nats: {url: "nats://a:4222", user: u}`, []string{"nats.user: user and password go together"}},
		{"an empty store dir is refused", `nats: {embedded: {store_dir: ""}}`, []string{"nats.embedded.store_dir: required for the embedded server"}},
		{"max payload above 64MiB is refused", `nats: {embedded: {max_payload: 65MiB}}`, []string{"nats.embedded.max_payload: must be between 1 byte and 64MiB"}},
		{"a stream name with a dot is refused", `nats: {stream: {name: a.b}}`, []string{`nats.stream.name: invalid stream name "a.b"`}},
		{"six replicas are refused", `nats: {stream: {replicas: 6}}`, []string{"nats.stream.replicas: must be between 1 and 5"}},
		{"a duplicates window above max_age is refused", `nats: {stream: {max_age: 1m, duplicates: 2m}}`, []string{"nats.stream.duplicates: must be more than 0 and at most stream.max_age"}},
		{"a zero publish timeout is refused", `nats: {publish_timeout: 0s}`, []string{"nats.publish_timeout: must be more than 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := parseDoc(t, tt.doc, nil)
			checkProblems(t, ps, tt.want)
		})
	}
}

func TestValidateWebhooks(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"a minimal webhook is valid", hookDoc(""), nil},
		{"a missing name is refused", "incoming: [{name: in}]\nwebhooks: [{incoming: in}]", []string{"t.yaml:2: webhooks[0].name: required"}},
		{"a name without slug needs an identifier", hookDoc("name: '!!!'")[:0] + "incoming: [{name: in}]\nwebhooks: [{name: '!!!', incoming: in}]", []string{`webhooks[0].name: the slug of "!!!" is empty; set identifier`}},
		{"a name without slug with identifier is fine", "incoming: [{name: in}]\nwebhooks: [{name: '!!!', identifier: bangs, incoming: in}]", nil},
		{"an identifier with upper case is refused", hookDoc("identifier: Erp"), []string{`webhooks[0].identifier: invalid identifier "Erp"; use [a-z0-9][a-z0-9_-]*`}},
		{"an identifier starting with a dash is refused", hookDoc("identifier: -erp"), []string{`invalid identifier "-erp"`}},
		{"two webhooks with one name are refused", "incoming: [{name: in}]\nwebhooks:\n  - {name: w, incoming: in}\n  - {name: w, incoming: in}\n",
			[]string{`t.yaml:4: webhooks[1].name: webhook "w" is defined twice; first at t.yaml:3`}},
		{"two webhooks with one identifier are refused", "incoming: [{name: in}]\nwebhooks:\n  - {name: ERP Stock, incoming: in}\n  - {name: erp stock!, incoming: in}\n",
			[]string{`t.yaml:4: webhooks[1].identifier: identifier "erp-stock" is used twice; first by webhook "ERP Stock" at t.yaml:3`}},
		{"an undefined incoming lists the defined ones", "incoming: [{name: erp-stock}, {name: audit}]\nwebhooks: [{name: w, incoming: erp}]",
			[]string{`t.yaml:2: webhooks[0].incoming: "erp" is not defined; defined: erp-stock, audit`}},
		{"a missing incoming is refused", "incoming: [{name: in}]\nwebhooks: [{name: w}]", []string{"webhooks[0].incoming: required; name one of the incoming configurations (defined: in)"}},
		{"an undefined additional incoming is refused", hookDoc("additional_incoming: [audit]"), []string{`webhooks[0].additional_incoming[0]: "audit" is not defined; defined: in`}},
		{"an additional incoming equal to incoming is refused", hookDoc("additional_incoming: [in]"), []string{`webhooks[0].additional_incoming[0]: "in" is listed twice`}},
		{"methods may add PUT", hookDoc("methods: [POST, PUT]"), nil},
		{"lower-case methods are accepted", hookDoc("methods: [post, patch]"), nil},
		{"GET is refused", hookDoc("methods: [GET]"), []string{`webhooks[0].methods[0]: unknown method "GET"; use POST, PUT, PATCH or DELETE`}},
		{"a repeated method is refused", hookDoc("methods: [POST, post]"), []string{"webhooks[0].methods[1]: POST is listed twice"}},
		{"no methods is refused", hookDoc("methods: []"), []string{"webhooks[0].methods: empty"}},
		{"a header dedup key is valid", hookDoc("dedup_key: 'header:X-Request-Id'"), nil},
		{"a body dedup key is valid", hookDoc("dedup_key: 'body:data.id'"), nil},
		{"body_hash is a valid dedup key", hookDoc("dedup_key: body_hash"), nil},
		{"an unknown dedup key kind is refused", hookDoc("dedup_key: 'query:id'"), []string{`webhooks[0].dedup_key: invalid dedup key "query:id"; use header:NAME, body:GJSON.PATH or body_hash`}},
		{"an empty header dedup key is refused", hookDoc("dedup_key: 'header:'"), []string{"invalid dedup key"}},
		{"a forward header with a space is refused", hookDoc("forward_headers: [X Event]"), []string{`webhooks[0].forward_headers[0]: invalid header name "X Event"`}},
		{"a forward header twice in any case is refused", hookDoc("forward_headers: [X-Event, x-event]"), []string{"webhooks[0].forward_headers[1]: x-event is listed twice"}},
		{"a forward header cannot replace the task envelope", hookDoc("forward_headers: [X-Event, CE-ID, Content-Type, nats-msg-id]"), []string{
			"webhooks[0].forward_headers[1]: CE-ID would replace a task header of SPEC §7; forward headers cannot be named ce-*, content-type or Nats-*",
			"webhooks[0].forward_headers[2]: Content-Type would replace",
			"webhooks[0].forward_headers[3]: nats-msg-id would replace",
		}},
		{"a respond with 202 is valid", hookDoc("post_processors: [{respond: {status: 202}}]"), nil},
		{"a respond with 500 is refused", hookDoc("post_processors: [{respond: {status: 500}}]"), []string{"webhooks[0].post_processors[0].respond.status: must be a success status, 200 to 299"}},
		{"two responds are refused", hookDoc("post_processors: [{respond: {}}, {respond: {}}]"), []string{"webhooks[0].post_processors[1].respond: a second respond"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := parseDoc(t, tt.doc, nil)
			checkProblems(t, ps, tt.want)
		})
	}
}

const (
	whsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" // the Standard Webhooks test vector key
	pre   = "webhooks[0].pre_processors[0]"
)

func TestValidatePreProcessors(t *testing.T) {
	tests := []struct {
		name string
		pre  string
		want []string
	}{
		{"header_secret with header and secret is valid", "header_secret: {header: X-Alumio-Auth, secret: s}", nil},
		{"header_secret with a prefix and rotated secrets is valid", `header_secret: {header: Authorization, prefix: "Bearer ", secrets: [a, b]}`, nil},
		{"header_secret without header is refused", "header_secret: {secret: s}", []string{"t.yaml:6: " + pre + ".header_secret.header: required"}},
		{"header_secret without secret is refused", "header_secret: {header: X}", []string{pre + ".header_secret.secret: required; set secret, or secrets for rotation"}},
		{"header_secret with an empty variable is refused", `header_secret: {header: X, secret: "${S:-}"}`, []string{pre + ".header_secret.secret: empty"}},
		{"an empty rotated secret is refused", "header_secret: {header: X, secrets: [a, '']}", []string{pre + ".header_secret.secrets[1]: empty"}},
		{"basic_auth with user and password is valid", "basic_auth: {username: erp, password: p}", nil},
		{"basic_auth without password is refused", "basic_auth: {username: erp}", []string{pre + ".basic_auth.password: required"}},
		{"basic_auth with a colon in the user is refused", "basic_auth: {username: 'a:b', password: p}", []string{pre + ".basic_auth.username: required, without \":\""}},
		{"ip_allowlist with networks and addresses is valid", "ip_allowlist: {cidrs: [192.0.2.0/24, 2001:db8::/32, 198.51.100.7], trusted_proxies: [10.0.0.0/8]}", nil},
		{"ip_allowlist without cidrs is refused", "ip_allowlist: {trusted_proxies: [10.0.0.0/8]}", []string{pre + ".ip_allowlist.cidrs: required"}},
		{"ip_allowlist with a bad proxy is refused", "ip_allowlist: {cidrs: [0.0.0.0/0], trusted_proxies: [proxy.local]}", []string{pre + `.ip_allowlist.trusted_proxies[0]: invalid network "proxy.local"`}},
		{"every inbound preset is valid", "hmac: {preset: github, secret: s}", nil},
		{"github_sha1 is valid", "hmac: {preset: github_sha1, secret: s}", nil},
		{"stripe with a tolerance is valid", "hmac: {preset: stripe, secret: whsec_abc, tolerance: 10m}", nil},
		{"shopify is valid", "hmac: {preset: shopify, secret: s}", nil},
		{"slack is valid", "hmac: {preset: slack, secret: s}", nil},
		{"gitlab is valid", "hmac: {preset: gitlab, secret: s}", nil},
		{"standard_webhooks with a whsec secret is valid", "hmac: {preset: standard_webhooks, secret: " + whsec + "}", nil},
		{"twilio with a public URL is valid", "hmac: {preset: twilio, secret: s, public_url: 'https://hooks.example.com/webhooks/sms?x=1'}", nil},
		{"an unknown preset is refused", "hmac: {preset: bitbucket, secret: s}", []string{pre + `.hmac.preset: unknown value "bitbucket"; use github, github_sha1, stripe, shopify, slack, standard_webhooks, gitlab or twilio`}},
		{"a preset without secret is refused", "hmac: {preset: github}", []string{pre + ".hmac.secret: required"}},
		{"a preset with generic keys is refused", "hmac: {preset: github, secret: s, algorithm: sha1}", []string{pre + ".hmac.algorithm: not used with preset github; remove it, or remove preset to use the generic form"}},
		{"a tolerance on a preset without timestamp is refused", "hmac: {preset: github, secret: s, tolerance: 1m}", []string{pre + ".hmac.tolerance: preset github has no timestamp"}},
		{"twilio without public URL is refused", "hmac: {preset: twilio, secret: s}", []string{pre + ".hmac.public_url: required for twilio"}},
		{"a public URL without twilio is refused", "hmac: {preset: github, secret: s, public_url: 'https://x'}", []string{pre + ".hmac.public_url: only used with preset twilio"}},
		{"standard_webhooks without whsec_ is refused", "hmac: {preset: standard_webhooks, secret: MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}", []string{pre + ".hmac.secret: a standard_webhooks secret is whsec_ followed by the base64 key; this one is not"}},
		{"standard_webhooks with bad base64 is refused", "hmac: {preset: standard_webhooks, secrets: [" + whsec + ", whsec_***]}", []string{pre + ".hmac.secrets[1]: a standard_webhooks secret is whsec_"}},
		{"the generic form is valid", `hmac: {header: X-Signature, algorithm: sha256, encoding: base64, prefix: "sha256=", signed_payload: "{id}.{timestamp}.{body}", timestamp_header: X-Timestamp, id_header: X-Delivery, tolerance: 5m, secret: s}`, nil},
		{"the generic form needs a header", "hmac: {algorithm: sha256, secret: s}", []string{pre + ".hmac.header: required"}},
		{"the generic form needs an algorithm", "hmac: {header: X-Sig, secret: s}", []string{pre + ".hmac.algorithm: required; use sha1, sha256 or sha512"}},
		{"an unknown algorithm is refused", "hmac: {header: X-Sig, algorithm: sha2, secret: s}", []string{pre + `.hmac.algorithm: unknown value "sha2"; use sha1, sha256 or sha512`}},
		{"an unknown encoding is refused", "hmac: {header: X-Sig, algorithm: sha1, encoding: base32, secret: s}", []string{pre + `.hmac.encoding: unknown value "base32"; use hex or base64`}},
		{"a timestamp placeholder needs its header", `hmac: {header: X-Sig, algorithm: sha1, signed_payload: "{timestamp}.{body}", secret: s}`, []string{pre + ".hmac.signed_payload: {timestamp} needs timestamp_header"}},
		{"an id placeholder needs its header", `hmac: {header: X-Sig, algorithm: sha1, signed_payload: "{id}.{body}", secret: s}`, []string{pre + ".hmac.signed_payload: {id} needs id_header"}},
		{"an unknown placeholder is refused", `hmac: {header: X-Sig, algorithm: sha1, signed_payload: "{url}{body}", secret: s}`, []string{pre + ".hmac.signed_payload: unknown placeholder {url}"}},
		{"a payload without body is refused", `hmac: {header: X-Sig, algorithm: sha1, signed_payload: "static", secret: s}`, []string{pre + ".hmac.signed_payload: must contain {body}"}},
		{"a tolerance without timestamp header is refused", "hmac: {header: X-Sig, algorithm: sha1, tolerance: 5m, secret: s}", []string{pre + ".hmac.tolerance: needs timestamp_header"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := parseDoc(t, preDoc(tt.pre), nil)
			checkProblems(t, ps, tt.want)
		})
	}
}

func TestValidateIncoming(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"every parser is accepted", "incoming: [{name: a, parser: json}, {name: b, parser: xml}, {name: c, parser: form}, {name: d, parser: csv}, {name: e, parser: raw}, {name: f}]", nil},
		{"an unknown parser is refused", "incoming: [{name: a, parser: yaml}]", []string{`t.yaml:1: incoming[0].parser: unknown value "yaml"; use auto, json, xml, form, csv or raw`}},
		{"an unknown read method is refused", "incoming: [{name: a, read_method: stream}]", []string{`incoming[0].read_method: unknown value "stream"; use full or incremental`}},
		{"an unknown on_empty is refused", "incoming: [{name: a, on_empty: drop}]", []string{`incoming[0].on_empty: unknown value "drop"; use reject or accept`}},
		{"zero max items is refused", "incoming: [{name: a, max_items: 0}]", []string{"incoming[0].max_items: must be at least 1"}},
		{"an upper-case name is refused", "incoming: [{name: ERP}]", []string{`incoming[0].name: invalid name "ERP"; incoming names are [a-z0-9_-]+`}},
		{"a name of 129 characters is refused", "incoming: [{name: " + strings.Repeat("a", 129) + "}]", []string{`incoming[0].name: name of 129 characters; incoming names have at most 128`}},
		{"a name of 128 characters is fine", "incoming: [{name: " + strings.Repeat("a", 128) + "}]", nil},
		{"a missing name is refused", "incoming: [{parser: xml}]", []string{"incoming[0].name: required"}},
		{"a name defined twice is refused", "incoming: [{name: a}, {name: a}]", []string{`incoming[1].name: incoming "a" is defined twice; first at t.yaml:1`}},
		{"a pattern with raw is refused", "incoming: [{name: a, parser: raw, pattern_to_items: Orders.Order}]", []string{"incoming[0].pattern_to_items: not allowed with parser raw"}},
		{"escaped dots and wildcards are valid patterns", `incoming: [{name: a, pattern_to_items: 'data.*.lines\.v2.0'}]`, nil},
		{"an empty pattern segment is refused", "incoming: [{name: a, pattern_to_items: Orders..Order}]", []string{`incoming[0].pattern_to_items: invalid pattern "Orders..Order": empty segment`}},
		{"a trailing dot is refused", "incoming: [{name: a, pattern_to_items: 'Orders.'}]", []string{"empty segment"}},
		{"a dangling backslash is refused", `incoming: [{name: a, pattern_to_items: 'a\'}]`, []string{`\ escapes only . or \`}},
		{"a subject outside tasks is refused", "incoming: [{name: a, subject: orders.a}]", []string{`incoming[0].subject: invalid subject "orders.a"; use tasks.<name>`}},
		{"a wildcard subject is refused", "incoming: [{name: a, subject: tasks.*}]", []string{"invalid subject"}},
		{"a custom subject under tasks is valid", "incoming: [{name: a, subject: tasks.erp.stock, type: com.example.stock}]", nil},
		{"a semicolon delimiter is valid", `incoming: [{name: a, parser: csv, csv: {delimiter: ";"}}]`, nil},
		{"a tab delimiter is valid", `incoming: [{name: a, parser: csv, csv: {delimiter: "\t"}}]`, nil},
		{"a two-character delimiter is refused", `incoming: [{name: a, csv: {delimiter: ";;"}}]`, []string{`incoming[0].csv.delimiter: invalid delimiter ";;"`}},
		{"a quote delimiter is refused", `incoming: [{name: a, csv: {delimiter: '"'}}]`, []string{"invalid delimiter"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := parseDoc(t, tt.doc, nil)
			checkProblems(t, ps, tt.want)
		})
	}
}

func TestValidateOutgoingAndAuth(t *testing.T) {
	oauth := `{name: erp-oauth, type: oauth2_client_credentials, client_id: hookgate, client_secret: cs, scope: x, token_url: "https://login.example.com/token", allowed_domains: [erp.example.com, "*.erp.example.com", login.example.com]}`
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"a plain https outgoing is valid", outDoc(`url: "https://erp.example.com/api"`, ""), nil},
		{"a missing URL is refused", outDoc("method: POST", ""), []string{"t.yaml:2: outgoing[0].url: required"}},
		{"a relative URL is refused", outDoc("url: /api", ""), []string{`outgoing[0].url: invalid URL "/api"`}},
		{"an ftp URL is refused", outDoc(`url: "ftp://erp.example.com"`, ""), []string{"invalid URL"}},
		{"credentials in the URL are refused", outDoc(`url: "https://u:p@erp.example.com"`, ""), []string{"outgoing[0].url: credentials in the URL"}},
		{"localhost is refused", outDoc(`url: "http://localhost:9000/x"`, ""), []string{"outgoing[0].url: host localhost is a loopback name, an address deliveries refuse (SPEC §11); set allow_private_networks: true to deliver there"}},
		{"a private literal is refused", outDoc(`url: "http://10.0.0.5/x"`, ""), []string{"host 10.0.0.5 is in 10.0.0.0/8 (private, RFC 1918), an address deliveries refuse"}},
		{"IPv6 loopback is refused", outDoc(`url: "http://[::1]:8080/x"`, ""), []string{"host ::1 is in ::1/128 (loopback)"}},
		{"CGNAT cloud metadata is refused", outDoc(`url: "http://100.100.100.200/"`, ""), []string{"t.yaml:2: outgoing[0].url: host 100.100.100.200 is in 100.64.0.0/10 (CGNAT"}},
		{"NAT64 of the metadata address is refused", outDoc(`url: "http://[64:ff9b::a9fe:a9fe]/"`, ""),
			[]string{"outgoing[0].url: host 64:ff9b::a9fe:a9fe is the NAT64 form of 169.254.169.254, in 169.254.0.0/16 (link-local, cloud metadata)"}},
		{"a zoned link-local literal is refused", outDoc(`url: "http://[fe80::1%25eth0]/"`, ""), []string{"host fe80::1%eth0 is in fe80::/10 (link-local)"}},
		{"documentation space is refused", outDoc(`url: "https://203.0.113.7/"`, ""), []string{"host 203.0.113.7 is in 203.0.113.0/24 (documentation)"}},
		{"6to4 of a public address is valid", outDoc(`url: "https://[2002:0808:0808::1]/"`, ""), nil},
		{"a public literal is valid", outDoc(`url: "https://93.184.216.34/"`, ""), nil},
		{"a decimal host is refused", outDoc(`url: "http://2130706433/"`, ""), []string{"outgoing[0].url: host 2130706433 is a number, not a name or a dotted IP address"}},
		{"a short dotted host is refused even when private is allowed", outDoc(`url: "http://127.1/", allow_private_networks: true`, ""), []string{"host 127.1 is a number"}},
		{"a hex host is refused", outDoc(`url: "http://0x7f.0.0.1/"`, ""), []string{"host 0x7f.0.0.1 is a number"}},
		{"a host ending in a hex-looking name is valid", outDoc(`url: "https://api.cafe/"`, ""), nil},
		{"cloud metadata is refused", outDoc(`url: "http://169.254.169.254/latest"`, ""), []string{"host 169.254.169.254"}},
		{"unspecified is refused", outDoc(`url: "http://0.0.0.0/"`, ""), []string{"host 0.0.0.0"}},
		{"private allowed when asked", outDoc(`url: "http://127.0.0.1:9000/x", allow_private_networks: true`, ""), nil},
		{"an unknown method is refused", outDoc(`url: "https://e.example.com", method: GET`, ""), []string{`outgoing[0].method: unknown method "GET"; use POST, PUT, PATCH or DELETE`}},
		{"an unknown format is refused", outDoc(`url: "https://e.example.com", format: yaml`, ""), []string{`outgoing[0].format: unknown value "yaml"; use json or xml`}},
		{"a bad root element is refused", outDoc(`url: "https://e.example.com", format: xml, root_element: "1 Order"`, ""), []string{`outgoing[0].root_element: invalid XML element name "1 Order"`}},
		{"a bad header name is refused", outDoc(`url: "https://e.example.com", headers: {"X Api": "2"}`, ""), []string{"outgoing[0].headers.X Api: invalid header name"}},
		{"zero concurrency is refused", outDoc(`url: "https://e.example.com", concurrency: 0`, ""), []string{"outgoing[0].concurrency: must be at least 1"}},
		{"max interval below initial is refused", outDoc(`url: "https://e.example.com", retry: {initial_interval: 1m, max_interval: 1s}`, ""), []string{"outgoing[0].retry.max_interval: must be at least retry.initial_interval"}},
		{"a circuit turned off is valid", outDoc(`url: "https://e.example.com", circuit: {failures: 0}`, ""), nil},
		{"a negative circuit failures is refused", outDoc(`url: "https://e.example.com", circuit: {failures: -1}`, ""), []string{"t.yaml:2: outgoing[0].circuit.failures: must be at least 0"}},
		{"a zero open_for is refused", outDoc(`url: "https://e.example.com", circuit: {open_for: 0s}`, ""), []string{"outgoing[0].circuit.open_for: must be more than 0"}},
		{"max_open_for below open_for is refused", outDoc(`url: "https://e.example.com", circuit: {open_for: 1m, max_open_for: 30s}`, ""), []string{"outgoing[0].circuit.max_open_for: must be at least circuit.open_for"}},
		{"an unknown circuit key is refused", outDoc(`url: "https://e.example.com", circuit: {threshold: 3}`, ""), []string{"outgoing[0].circuit.threshold"}},
		{"an auth profile inside its domains is valid", outDoc(`url: "https://erp.example.com/api", auth: erp-oauth`, oauth), nil},
		{"a subdomain inside a wildcard is valid", outDoc(`url: "https://eu.erp.example.com:8443/api", auth: erp-oauth`, oauth), nil},
		{"a host outside the profile's domains is refused", outDoc(`url: "https://evil.example.net/api", auth: erp-oauth`, oauth),
			[]string{`t.yaml:2: outgoing[0].url: host evil.example.net is outside the allowed_domains of auth profile "erp-oauth" (erp.example.com, *.erp.example.com, login.example.com)`}},
		{"an undefined auth profile is refused", outDoc(`url: "https://erp.example.com", auth: nope`, oauth), []string{`outgoing[0].auth: "nope" is not defined; defined: erp-oauth`}},
		{"github signing is valid", outDoc(`url: "https://e.example.com", signing: {preset: github, secret: s}`, ""), nil},
		{"standard webhooks signing is valid", outDoc(`url: "https://e.example.com", signing: {preset: standard_webhooks, secret: `+whsec+`}`, ""), nil},
		{"generic signing is valid", outDoc(`url: "https://e.example.com", signing: {header: X-Sig, algorithm: sha512, secret: s}`, ""), nil},
		{"stripe signing is refused", outDoc(`url: "https://e.example.com", signing: {preset: stripe, secret: s}`, ""), []string{`outgoing[0].signing.preset: unknown value "stripe"; use standard_webhooks or github`}},
		{"every profile type is valid", outDoc(`url: "https://e.example.com"`,
			`{name: b, type: basic, username: u, password: p, allowed_domains: [a.example.com]}, {name: t, type: bearer, token: x, allowed_domains: [192.0.2.1]}, {name: h, type: header, header: X-Api-Key, value: v, allowed_domains: ["*.example.com"]}, `+oauth), nil},
		{"a profile without allowed_domains is refused", outDoc(`url: "https://e.example.com"`, `{name: b, type: bearer, token: x}`), []string{"t.yaml:3: auth_profiles[0].allowed_domains: required"}},
		{"a domain with a scheme is refused", outDoc(`url: "https://e.example.com"`, `{name: b, type: bearer, token: x, allowed_domains: ["https://a.example.com"]}`), []string{`auth_profiles[0].allowed_domains[0]: invalid domain "https://a.example.com"`}},
		{"a domain with a port is refused", outDoc(`url: "https://e.example.com"`, `{name: b, type: bearer, token: x, allowed_domains: ["a.example.com:443"]}`), []string{"invalid domain"}},
		{"a bare star is refused", outDoc(`url: "https://e.example.com"`, `{name: b, type: bearer, token: x, allowed_domains: ["*"]}`), []string{`invalid domain "*"`}},
		{"an unknown type is refused", outDoc(`url: "https://e.example.com"`, `{name: b, type: digest, allowed_domains: [a.example.com]}`), []string{`auth_profiles[0].type: unknown value "digest"; use basic, bearer, header or oauth2_client_credentials`}},
		{"basic without password is refused", outDoc(`url: "https://e.example.com"`, `{name: b, type: basic, username: u, allowed_domains: [a.example.com]}`), []string{"auth_profiles[0].password: required for type basic"}},
		{"a key of another type is refused", outDoc(`url: "https://e.example.com"`, `{name: b, type: bearer, token: x, username: u, allowed_domains: [a.example.com]}`), []string{"auth_profiles[0].username: not used with type bearer; it takes token"}},
		{"oauth2 without token URL is refused", outDoc(`url: "https://e.example.com"`, `{name: o, type: oauth2_client_credentials, client_id: i, client_secret: s, allowed_domains: [a.example.com]}`), []string{"auth_profiles[0].token_url: required for type oauth2_client_credentials"}},
		{"a profile name defined twice is refused", outDoc(`url: "https://e.example.com"`, `{name: b, type: bearer, token: x, allowed_domains: [a.example.com]}, {name: b, type: bearer, token: y, allowed_domains: [a.example.com]}`), []string{`auth_profiles[1].name: auth profile "b" is defined twice`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := parseDoc(t, tt.doc, nil)
			checkProblems(t, ps, tt.want)
		})
	}
}

func TestValidateRoutes(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"the SPEC route is valid", routeDoc(`filter: [{path: status, equals: released}, {path: n, not_equals: "0"}, {path: s, in: [a, b]}, {path: id, matches: "^SO-"}, {path: x, exists: true}, {path: total, gt: 10}, {path: total, lt: 1e6}],
    transform: [{map: {orderId: "-id"}}, {set: {source: erp}}, {rename: {orderId: id}}, {remove: [internalNotes]}]`), nil},
		{"an undefined incoming is refused", strings.Replace(routeDoc(""), "incoming: in, outgoing", "incoming: erp, outgoing", 1), []string{`routes[0].incoming: "erp" is not defined; defined: in`}},
		{"an undefined outgoing is refused", strings.Replace(routeDoc(""), "outgoing: [out]", "outgoing: [out, crm]", 1), []string{`routes[0].outgoing[1]: "crm" is not defined; defined: out`}},
		{"an outgoing listed twice is refused", strings.Replace(routeDoc(""), "outgoing: [out]", "outgoing: [out, out]", 1), []string{`routes[0].outgoing[1]: "out" is listed twice`}},
		{"a route without outgoing is refused", strings.Replace(routeDoc(""), "outgoing: [out]", "outgoing: []", 1), []string{"routes[0].outgoing: required"}},
		{"a condition without operator is refused", routeDoc("filter: [{path: status}]"), []string{"t.yaml:4: routes[0].filter[0]: no operator; use exactly one of equals, not_equals, in, matches, exists, gt, lt"}},
		{"a condition with two operators is refused", routeDoc("filter: [{path: n, gt: 1, lt: 5}]"), []string{"routes[0].filter[0]: 2 operators (gt, lt); use exactly one per condition"}},
		{"a condition without path is refused", routeDoc("filter: [{equals: x}]"), []string{"routes[0].filter[0].path: required"}},
		{"a regexp that does not compile is refused", routeDoc(`filter: [{path: id, matches: "(["}]`), []string{"routes[0].filter[0].matches: invalid regular expression"}},
		{"an empty in list is refused", routeDoc("filter: [{path: s, in: []}]"), []string{"routes[0].filter[0].in: empty list"}},
		{"a non-numeric gt is refused", routeDoc("filter: [{path: s, gt: ten}]"), []string{`routes[0].filter[0].gt: invalid number "ten"`}},
		{"an unknown operator is refused", routeDoc("filter: [{path: s, contains: x}]"), []string{"routes[0].filter[0].contains: unknown key; allowed: path, equals, not_equals, in, matches, exists, gt, lt"}},
		{"an empty map is refused", routeDoc("transform: [{map: {}}]"), []string{"routes[0].transform[0].map: empty"}},
		{"an empty remove is refused", routeDoc("transform: [{remove: []}]"), []string{"routes[0].transform[0].remove: empty"}},
		{"a route name defined twice is refused", routeDoc("") + "  - {name: r, incoming: in, outgoing: [out]}\n", []string{`routes[1].name: route "r" is defined twice`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := parseDoc(t, tt.doc, nil)
			checkProblems(t, ps, tt.want)
		})
	}
}

func TestSecretsNeverInProblems(t *testing.T) {
	doc := `incoming: [{name: in}]
webhooks:
  - name: w
    incoming: in
    pre_processors:
      - hmac: {preset: standard_webhooks, secret: "TOPSECRET-1"}
      - hmac: {preset: standard_webhooks, secrets: [whsec_TOPSECRET-2]}
      - header_secret: {header: "bad header", secret: TOPSECRET-3}
auth_profiles: [{name: p, type: bearer, token: TOPSECRET-4, username: TOPSECRET-5}]
`
	_, ps := parseDoc(t, doc, nil)
	if len(ps) == 0 {
		t.Fatal("want problems")
	}
	if strings.Contains(ps.Error(), "TOPSECRET") {
		t.Fatalf("a secret appears in problems:\n%s", ps.Error())
	}
}
