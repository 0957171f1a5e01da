package configs

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/http/httpguts"
)

// The table is the one place the presets are written, so it must agree
// with itself: every row is what the config checks would accept as a
// generic hmac, and its timestamp rule follows its headers.
func TestPresetTableIsConsistent(t *testing.T) {
	seen := map[string]bool{}
	ranks := map[int]bool{}
	for _, p := range Presets() {
		t.Run(p.Name, func(t *testing.T) {
			if seen[p.Name] {
				t.Fatalf("%s is in the table twice", p.Name)
			}
			seen[p.Name] = true
			for _, h := range p.Headers() {
				if !httpguts.ValidHeaderFieldName(h) {
					t.Errorf("header %q is not a header name", h)
				}
			}
			if p.Header == "" {
				t.Error("no signature header")
			}
			signsTime := strings.Contains(p.SignedPayload, "{timestamp}")
			if p.Timestamp != signsTime {
				t.Errorf("Timestamp is %v but the signed payload %q says %v", p.Timestamp, p.SignedPayload, signsTime)
			}
			if p.Timestamp && p.TimestampHeader == "" && p.Scheme != SigStripe {
				t.Error("a timestamp with no header to read it from")
			}
			if strings.Contains(p.SignedPayload, "{id}") != (p.IDHeader != "") {
				t.Errorf("IDHeader %q and signed payload %q disagree", p.IDHeader, p.SignedPayload)
			}
			if p.SignedPayload != "" && !strings.Contains(p.SignedPayload, "{body}") {
				t.Errorf("signed payload %q does not cover the body", p.SignedPayload)
			}
			if p.Scheme != SigToken {
				if !slices.Contains([]string{"sha1", "sha256"}, p.Algorithm) || !slices.Contains([]string{"hex", "base64"}, p.Encoding) {
					t.Errorf("algorithm %q, encoding %q", p.Algorithm, p.Encoding)
				}
			}
			if p.DedupKey != "" {
				kind, arg, _ := strings.Cut(p.DedupKey, ":")
				if !(kind == "header" && httpguts.ValidHeaderFieldName(arg)) && !(kind == "body" && arg != "") {
					t.Errorf("dedup key %q is not header:NAME or body:PATH", p.DedupKey)
				}
			}
			if p.Outgoing != 0 {
				if ranks[p.Outgoing] {
					t.Errorf("outgoing place %d is taken twice", p.Outgoing)
				}
				ranks[p.Outgoing] = true
				if p.Scheme == SigTwilio || p.Scheme == SigToken {
					t.Error("signs outgoing deliveries, but its scheme cannot")
				}
			}
			if got, ok := PresetByName(p.Name); !ok || got.Name != p.Name {
				t.Errorf("PresetByName(%q) = %v, %v", p.Name, got.Name, ok)
			}
		})
	}
}

// The messages list presets in the order of SPEC §5 (and the signing
// presets with the recommended one first); these lists are what users read.
func TestPresetLists(t *testing.T) {
	for _, tt := range []struct {
		name string
		got  []string
		want string
	}{
		{"every preset", PresetNames(), "github github_sha1 stripe shopify slack standard_webhooks gitlab twilio"},
		{"the signing presets", OutgoingPresetNames(), "standard_webhooks github"},
		{"the presets with a timestamp", timestampPresetNames(), "stripe slack standard_webhooks"},
	} {
		if got := strings.Join(tt.got, " "); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	if _, ok := PresetByName("bitbucket"); ok {
		t.Error("an unknown name is found")
	}
}

func TestSecretEncodingKey(t *testing.T) {
	for _, tt := range []struct {
		name   string
		enc    SecretEncoding
		secret string
		want   string
		ok     bool
	}{
		{"as written keeps a whsec_ secret whole", SecretAsWritten, "whsec_abc", "whsec_abc", true},
		{"whsec_ base64 is decoded", SecretWhsecBase64, "whsec_aGVsbG8=", "hello", true},
		{"bare base64 is refused", SecretWhsecBase64, "aGVsbG8=", "", false},
		{"bad base64 is refused", SecretWhsecBase64, "whsec_!!", "", false},
		{"an empty key is refused", SecretWhsecBase64, "whsec_", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k, ok := tt.enc.Key(tt.secret)
			if ok != tt.ok || (ok && string(k) != tt.want) {
				t.Fatalf("Key(%q) = %q, %v; want %q, %v", tt.secret, k, ok, tt.want, tt.ok)
			}
		})
	}
}
