package validators

import (
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/configs"
)

func TestBuildErrors(t *testing.T) {
	const secret = "do-not-print-me"
	tests := []struct {
		name string
		pp   configs.PreProcessor
		want string
	}{
		{"an empty entry", configs.PreProcessor{}, "pre_processors[0]: set exactly one of header_secret, basic_auth, ip_allowlist, hmac (found 0)"},
		{"two kinds in one entry", configs.PreProcessor{HeaderSecret: &configs.HeaderSecret{Header: "X", Secret: "s"}, BasicAuth: &configs.BasicAuth{Username: "u", Password: "p"}}, "(found 2)"},
		{"an unknown preset", hmacPP(configs.HMAC{Preset: "gitbub", Secret: secret}), `pre_processors[0].hmac.preset: unknown value "gitbub"; use github, github_sha1, stripe, shopify, slack, standard_webhooks, gitlab, twilio`},
		{"an unknown algorithm", hmacPP(configs.HMAC{Header: "X-Sig", Algorithm: "sha2", Secret: secret}), `pre_processors[0].hmac.algorithm: unknown value "sha2"; use sha1, sha256 or sha512`},
		{"an unknown encoding", hmacPP(configs.HMAC{Header: "X-Sig", Encoding: "b32", Secret: secret}), `pre_processors[0].hmac.encoding: unknown value "b32"; use hex or base64`},
		{"no secret", hmacPP(configs.HMAC{Preset: "github"}), "pre_processors[0].hmac.secret: missing; set secret or secrets"},
		{"generic without header", hmacPP(configs.HMAC{Secret: secret}), "pre_processors[0].hmac.header: missing"},
		{"a preset with generic keys", hmacPP(configs.HMAC{Preset: "github", Header: "X-Sig", Secret: secret}), "pre_processors[0].hmac.header: not allowed with preset github"},
		{"a payload without body", hmacPP(configs.HMAC{Header: "X-Sig", SignedPayload: "{timestamp}", TimestampHeader: "X-Ts", Secret: secret}), "pre_processors[0].hmac.signed_payload: must contain {body} exactly once"},
		{"{timestamp} without its header", hmacPP(configs.HMAC{Header: "X-Sig", SignedPayload: "{timestamp}.{body}", Secret: secret}), "uses {timestamp}; set timestamp_header"},
		{"{id} without its header", hmacPP(configs.HMAC{Header: "X-Sig", SignedPayload: "{id}.{body}", Secret: secret}), "uses {id}; set id_header"},
		{"tolerance on a preset without timestamp", hmacPP(configs.HMAC{Preset: "github", Secret: secret, Tolerance: time.Minute}), "pre_processors[0].hmac.tolerance: preset github has no timestamp"},
		{"tolerance without timestamp_header", hmacPP(configs.HMAC{Header: "X-Sig", Secret: secret, Tolerance: time.Minute}), "pre_processors[0].hmac.tolerance: needs timestamp_header"},
		{"a negative tolerance", hmacPP(configs.HMAC{Preset: "stripe", Secret: secret, Tolerance: -time.Minute}), "pre_processors[0].hmac.tolerance: -1m0s is negative"},
		{"twilio without public_url", hmacPP(configs.HMAC{Preset: "twilio", Secret: secret}), "pre_processors[0].hmac.public_url: missing"},
		{"twilio with a relative public_url", hmacPP(configs.HMAC{Preset: "twilio", Secret: secret, PublicURL: "/webhooks/sms"}), "is not an absolute http(s) URL"},
		{"public_url on another preset", hmacPP(configs.HMAC{Preset: "github", Secret: secret, PublicURL: "https://a.example/"}), "public_url: only used by preset twilio"},
		{"a header_secret without header", configs.PreProcessor{HeaderSecret: &configs.HeaderSecret{Secret: secret}}, "pre_processors[0].header_secret.header: missing"},
		{"a header_secret without secret", configs.PreProcessor{HeaderSecret: &configs.HeaderSecret{Header: "X"}}, "pre_processors[0].header_secret.secret: missing"},
		{"basic_auth without user", configs.PreProcessor{BasicAuth: &configs.BasicAuth{Password: secret}}, "pre_processors[0].basic_auth.username: missing"},
		{"basic_auth without password", configs.PreProcessor{BasicAuth: &configs.BasicAuth{Username: "u"}}, "pre_processors[0].basic_auth.password: missing"},
		{"an allowlist without cidrs", configs.PreProcessor{IPAllowlist: &configs.IPAllowlist{}}, "pre_processors[0].ip_allowlist.cidrs: missing"},
		{"a bad cidr", configs.PreProcessor{IPAllowlist: &configs.IPAllowlist{CIDRs: []string{"192.0.2.0/24", "192.0.2.0/33"}}}, `pre_processors[0].ip_allowlist.cidrs[1]: "192.0.2.0/33" is not a CIDR or an address`},
		{"a bad trusted proxy", configs.PreProcessor{IPAllowlist: &configs.IPAllowlist{CIDRs: []string{"192.0.2.0/24"}, TrustedProxies: []string{"proxy"}}}, "pre_processors[0].ip_allowlist.trusted_proxies[0]"},
		{"a bad rotated standard webhooks secret", hmacPP(configs.HMAC{Preset: "standard_webhooks", Secret: swhSecret("k"), Secrets: []string{"whsec_%%%" + secret}}), "pre_processors[0].hmac.secrets[0]: not a Standard Webhooks secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build([]configs.PreProcessor{tt.pp})
			if err == nil {
				t.Fatalf("want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %q, want it to contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error %q shows a secret", err)
			}
		})
	}
}

func TestBuildAcceptsWhatSPECShows(t *testing.T) {
	pp := []configs.PreProcessor{
		{HeaderSecret: &configs.HeaderSecret{Header: "X-Alumio-Auth", Secret: "a"}},
		{HeaderSecret: &configs.HeaderSecret{Header: "Authorization", Prefix: "Bearer ", Secret: "b"}},
		{BasicAuth: &configs.BasicAuth{Username: "erp", Password: "c"}},
		{IPAllowlist: &configs.IPAllowlist{CIDRs: []string{"192.0.2.0/24"}, TrustedProxies: []string{"10.0.0.0/8"}}},
		hmacPP(configs.HMAC{Preset: "github", Secret: "d"}),
		hmacPP(configs.HMAC{Header: "X-Signature", Algorithm: "sha256", Encoding: "hex", Prefix: "sha256=",
			SignedPayload: "{timestamp}.{body}", TimestampHeader: "X-Timestamp", IDHeader: "X-Delivery", Tolerance: 5 * time.Minute, Secret: "e"}),
	}
	c, err := Build(pp)
	if err != nil {
		t.Fatal(err)
	}
	if len(c) != len(pp) {
		t.Fatalf("chain has %d validators, want %d", len(c), len(pp))
	}
}

func TestSignedPayloadTemplates(t *testing.T) {
	tests := []struct {
		tmpl string
		want string // segments: literals quoted, placeholders by name
	}{
		{"", "B"},
		{"{body}", "B"},
		{"{timestamp}.{body}", "T'.'B"},
		{"v0:{timestamp}:{body}", "'v0:'T':'B"},
		{"{id}.{timestamp}.{body}", "I'.'T'.'B"},
		{"{x}{body}{", "'{x}'B'{'"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			segs, err := parseSignedPayload(tt.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, s := range segs {
				switch s.kind {
				case segLiteral:
					b.WriteString("'" + string(s.lit) + "'")
				case segID:
					b.WriteString("I")
				case segTimestamp:
					b.WriteString("T")
				case segBody:
					b.WriteString("B")
				}
			}
			if b.String() != tt.want {
				t.Fatalf("segments = %s, want %s", b.String(), tt.want)
			}
		})
	}
}

func TestDedupKeyDefault(t *testing.T) {
	h := func(preset string) configs.PreProcessor { return hmacPP(configs.HMAC{Preset: preset, Secret: "s"}) }
	tests := []struct {
		name string
		pp   []configs.PreProcessor
		want string
	}{
		{"github", []configs.PreProcessor{h("github")}, "header:X-GitHub-Delivery"},
		{"github_sha1", []configs.PreProcessor{h("github_sha1")}, "header:X-GitHub-Delivery"},
		{"stripe", []configs.PreProcessor{h("stripe")}, "body:id"},
		{"shopify", []configs.PreProcessor{h("shopify")}, "header:X-Shopify-Webhook-Id"},
		{"slack has none", []configs.PreProcessor{h("slack")}, ""},
		{"standard_webhooks", []configs.PreProcessor{h("standard_webhooks")}, "header:webhook-id"},
		{"gitlab", []configs.PreProcessor{h("gitlab")}, "header:X-Gitlab-Event-UUID"},
		{"twilio", []configs.PreProcessor{h("twilio")}, "header:I-Twilio-Idempotency-Token"},
		{"the first preset with one wins, slack skipped", []configs.PreProcessor{
			{HeaderSecret: &configs.HeaderSecret{Header: "X", Secret: "s"}}, h("slack"), h("stripe"), h("github")}, "body:id"},
		{"generic hmac has none", []configs.PreProcessor{hmacPP(configs.HMAC{Header: "X-Sig", Secret: "s"})}, ""},
		{"no validators", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DedupKeyDefault(tt.pp); got != tt.want {
				t.Fatalf("DedupKeyDefault = %q, want %q", got, tt.want)
			}
		})
	}
}
