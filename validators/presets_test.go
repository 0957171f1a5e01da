package validators

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/configs"
)

// signer is an independent implementation of one scheme, written from the
// providers' documentation, producing the headers a sender would send.
type signer func(secret, body string, ts int64) http.Header

// presetCase describes one preset for the shared behaviour table.
type presetCase struct {
	name        string
	cfg         func(secret string, more ...string) configs.HMAC
	sign        signer
	sigHeader   string // removing it gives "missing signature header <sigHeader>"
	tolerance   time.Duration
	body        string
	contentType string
}

const swhKey = "s3cr3t-key-bytes-for-tests" // raw Standard Webhooks key

func swhSecret(raw string) string { return "whsec_" + base64.StdEncoding.EncodeToString([]byte(raw)) }

const twilioPublic = "https://hooks.example.com/webhooks/sms?tenant=7"

func presetCases() []presetCase {
	const jsonBody = `{"id":"evt_123","type":"order.paid","amount":1000}`
	hmacCfg := func(preset string) func(string, ...string) configs.HMAC {
		return func(s string, more ...string) configs.HMAC {
			return configs.HMAC{Preset: preset, Secret: s, Secrets: more}
		}
	}
	ts := func(v int64) string { return strconv.FormatInt(v, 10) }
	return []presetCase{
		{
			name: "github", cfg: hmacCfg("github"), sigHeader: "X-Hub-Signature-256", body: jsonBody,
			sign: func(s, b string, _ int64) http.Header {
				return http.Header{"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(macOf(sha256.New, s, b))}}
			},
		},
		{
			name: "github_sha1", cfg: hmacCfg("github_sha1"), sigHeader: "X-Hub-Signature", body: jsonBody,
			sign: func(s, b string, _ int64) http.Header {
				return http.Header{"X-Hub-Signature": {"sha1=" + hex.EncodeToString(macOf(sha1.New, s, b))}}
			},
		},
		{
			// Stripe: https://docs.stripe.com/webhooks#verify-manually — HMAC-SHA256
			// of "t.body", hex, key used as written (whsec_ included).
			name: "stripe", sigHeader: "Stripe-Signature", tolerance: 5 * time.Minute, body: jsonBody,
			cfg: func(s string, more ...string) configs.HMAC {
				return configs.HMAC{Preset: "stripe", Secret: "whsec_" + s, Secrets: prefixAll("whsec_", more)}
			},
			sign: func(s, b string, t int64) http.Header {
				sig := hex.EncodeToString(macOf(sha256.New, "whsec_"+s, ts(t), ".", b))
				return http.Header{"Stripe-Signature": {"t=" + ts(t) + ",v1=" + sig + ",v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"}}
			},
		},
		{
			name: "shopify", cfg: hmacCfg("shopify"), sigHeader: "X-Shopify-Hmac-Sha256", body: jsonBody,
			sign: func(s, b string, _ int64) http.Header {
				return http.Header{"X-Shopify-Hmac-Sha256": {base64.StdEncoding.EncodeToString(macOf(sha256.New, s, b))}}
			},
		},
		{
			name: "slack", cfg: hmacCfg("slack"), sigHeader: "X-Slack-Signature", tolerance: 5 * time.Minute, body: jsonBody,
			sign: func(s, b string, t int64) http.Header {
				return http.Header{
					"X-Slack-Request-Timestamp": {ts(t)},
					"X-Slack-Signature":         {"v0=" + hex.EncodeToString(macOf(sha256.New, s, "v0:", ts(t), ":", b))},
				}
			},
		},
		{
			name: "standard_webhooks", sigHeader: "webhook-signature", tolerance: 5 * time.Minute, body: jsonBody,
			cfg: func(s string, more ...string) configs.HMAC {
				c := configs.HMAC{Preset: "standard_webhooks", Secret: swhSecret(s)}
				for _, m := range more {
					c.Secrets = append(c.Secrets, swhSecret(m))
				}
				return c
			},
			sign: func(s, b string, t int64) http.Header {
				const id = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
				return http.Header{
					"Webhook-Id":        {id},
					"Webhook-Timestamp": {ts(t)},
					"Webhook-Signature": {"v1," + base64.StdEncoding.EncodeToString(macOf(sha256.New, s, id, ".", ts(t), ".", b))},
				}
			},
		},
		{
			name: "gitlab", cfg: hmacCfg("gitlab"), sigHeader: "X-Gitlab-Token", body: jsonBody,
			sign: func(s, _ string, _ int64) http.Header { return http.Header{"X-Gitlab-Token": {s}} },
		},
		{
			// Twilio: URL (as configured) then each form name+value sorted by name.
			name: "twilio", sigHeader: "X-Twilio-Signature",
			body: "MessageSid=SM123&From=%2B15005550006&Body=hello+there&To=%2B15005550001", contentType: "application/x-www-form-urlencoded",
			cfg: func(s string, more ...string) configs.HMAC {
				return configs.HMAC{Preset: "twilio", Secret: s, Secrets: more, PublicURL: twilioPublic}
			},
			sign: func(s, _ string, _ int64) http.Header {
				sig := macOf(sha1.New, s, twilioPublic, "Body", "hello there", "From", "+15005550006", "MessageSid", "SM123", "To", "+15005550001")
				return http.Header{"X-Twilio-Signature": {base64.StdEncoding.EncodeToString(sig)}}
			},
		},
		{
			name: "generic sha512 base64 with id and timestamp", sigHeader: "X-Signature", tolerance: 2 * time.Minute, body: jsonBody,
			cfg: func(s string, more ...string) configs.HMAC {
				return configs.HMAC{Header: "X-Signature", Algorithm: "sha512", Encoding: "base64", Prefix: "sig=",
					SignedPayload: "{id}:{timestamp}:{body}", TimestampHeader: "X-Timestamp", IDHeader: "X-Delivery",
					Tolerance: 2 * time.Minute, Secret: s, Secrets: more}
			},
			sign: func(s, b string, t int64) http.Header {
				return http.Header{
					"X-Delivery":  {"d-42"},
					"X-Timestamp": {ts(t)},
					"X-Signature": {"sig=" + base64.StdEncoding.EncodeToString(macOf(sha512.New, s, "d-42:", ts(t), ":", b))},
				}
			},
		},
		{
			name: "generic sha1 hex over the body", sigHeader: "X-Sig", body: jsonBody,
			cfg: func(s string, more ...string) configs.HMAC {
				return configs.HMAC{Header: "X-Sig", Algorithm: "sha1", Encoding: "hex", Secret: s, Secrets: more}
			},
			sign: func(s, b string, _ int64) http.Header {
				return http.Header{"X-Sig": {hex.EncodeToString(macOf(sha1.New, s, b))}}
			},
		},
	}
}

func prefixAll(p string, ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = p + s
	}
	return out
}

func TestPresets(t *testing.T) {
	now := testNow.Unix()
	for _, pc := range presetCases() {
		t.Run(pc.name, func(t *testing.T) {
			type tc struct {
				name   string
				cfg    configs.HMAC
				header http.Header
				body   string
				want   string
			}
			flipped := []byte(pc.body)
			flipped[len(flipped)/2] ^= 0x20
			missing := pc.sign("right", pc.body, now)
			missing.Del(pc.sigHeader)
			cases := []tc{
				{"valid signature passes", pc.cfg("right"), pc.sign("right", pc.body, now), pc.body, ""},
				{"wrong secret is rejected", pc.cfg("right"), pc.sign("wrong", pc.body, now), pc.body, "invalid signature"},
				{"one byte of body changed is rejected", pc.cfg("right"), pc.sign("right", pc.body, now), string(flipped), "invalid signature"},
				{"missing signature header is named", pc.cfg("right"), missing, pc.body, "missing signature header " + pc.sigHeader},
				{"rotation: the second secret passes", pc.cfg("old", "new"), pc.sign("new", pc.body, now), pc.body, ""},
				{"rotation: the first secret passes", pc.cfg("old", "new"), pc.sign("old", pc.body, now), pc.body, ""},
				{"rotation: neither secret is rejected", pc.cfg("old", "new"), pc.sign("other", pc.body, now), pc.body, "invalid signature"},
			}
			if pc.name == "gitlab" {
				// GitLab's token covers no body: a changed body passes.
				cases[2].want = ""
			}
			if pc.tolerance > 0 {
				tol := int64(pc.tolerance / time.Second)
				cases = append(cases,
					tc{"stale timestamp is rejected", pc.cfg("right"), pc.sign("right", pc.body, now-tol-1), pc.body, "timestamp outside tolerance"},
					tc{"future timestamp is rejected", pc.cfg("right"), pc.sign("right", pc.body, now+tol+1), pc.body, "timestamp outside tolerance"},
					tc{"timestamp at the edge of tolerance passes", pc.cfg("right"), pc.sign("right", pc.body, now-tol), pc.body, ""},
					tc{"future timestamp inside tolerance passes", pc.cfg("right"), pc.sign("right", pc.body, now+tol), pc.body, ""},
				)
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					chain := mustBuild(t, hmacPP(c.cfg))
					if pc.contentType != "" {
						c.header.Set("Content-Type", pc.contentType)
					}
					url := ""
					if pc.name == "twilio" {
						url = "/webhooks/sms?tenant=7"
					}
					for _, spooled := range []bool{false, true} {
						var body Body = BytesBody(c.body)
						if spooled {
							body = newFileBody(t, []byte(c.body))
						}
						wantResult(t, validate(t, chain, newRequest(t, url, c.header.Clone(), body)), c.want, http.StatusUnauthorized)
					}
				})
			}
		})
	}
}

// Behaviour Stripe's own library tests pin down
// (https://github.com/stripe/stripe-go/blob/master/webhook/client_test.go).
func TestStripeSignatureHeader(t *testing.T) {
	const secret = "whsec_test_secret"
	body := `{"id":"evt_test_webhook","object":"event"}`
	now := testNow.Unix()
	ts := strconv.FormatInt(now, 10)
	good := hex.EncodeToString(macOf(sha256.New, secret, ts, ".", body))
	rolled := hex.EncodeToString(macOf(sha256.New, secret+"_rolled_key", ts, ".", body))
	tests := []struct {
		name, header, want string
	}{
		{"a valid v1 passes", "t=" + ts + ",v1=" + good, ""},
		{"an unreadable extra v1 is ignored", "t=" + ts + ",v1=" + good + ",v1=bad_signature", ""},
		{"the old key's signature beside the rolled key's passes", "t=" + ts + ",v1=" + rolled + ",v1=" + good, ""},
		{"spaces around pairs are tolerated", "t=" + ts + ", v1=" + good, ""},
		{"a v0 signature alone is not accepted", "t=" + ts + ",v0=" + good, "invalid signature"},
		{"a header without t is rejected", "v1=" + good, "invalid signature"},
		{"a header without pairs is rejected", "v1,t=1", "invalid signature"},
		{"an empty t is rejected", "t=,v1=" + good, "invalid signature"},
		{"an uppercase hex signature passes", "t=" + ts + ",v1=" + hexUpper(good), ""},
		{"a signature after 16 decoys is not read", "t=" + ts + strings.Repeat(",v1="+rolled, 16) + ",v1=" + good, "invalid signature"},
		{"a signature among 15 decoys is read", "t=" + ts + strings.Repeat(",v1="+rolled, 15) + ",v1=" + good, ""},
	}
	chain := mustBuild(t, hmacPP(configs.HMAC{Preset: "stripe", Secret: secret}))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRequest(t, "", http.Header{"Stripe-Signature": {tt.header}}, BytesBody(body))
			wantResult(t, validate(t, chain, r), tt.want, http.StatusUnauthorized)
		})
	}
}

func hexUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func TestStandardWebhooksSecretDecoding(t *testing.T) {
	tests := []struct {
		name, secret string
		wantErr      bool
	}{
		{"whsec_ plus base64 is accepted", swhSecret(swhKey), false},
		{"base64 without whsec_ is refused, as SPEC §5 writes the secret", base64.StdEncoding.EncodeToString([]byte(swhKey)), true},
		{"a secret that is not base64 is refused at build", "whsec_not base64!", true},
		{"an empty key is refused at build", "whsec_", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Build([]configs.PreProcessor{hmacPP(configs.HMAC{Preset: "standard_webhooks", Secret: tt.secret})})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && containsSecret(err.Error(), tt.secret) {
				t.Fatalf("error %q shows the secret", err)
			}
		})
	}
}

func containsSecret(msg, secret string) bool {
	s := strings.TrimPrefix(secret, "whsec_")
	return len(s) > 3 && strings.Contains(msg, s)
}

func TestToleranceOverride(t *testing.T) {
	chain := mustBuild(t, hmacPP(configs.HMAC{Preset: "slack", Secret: "s", Tolerance: 30 * time.Second}))
	sign := presetCases()[4].sign // slack
	if presetCases()[4].name != "slack" {
		t.Fatal("table order changed")
	}
	body := `{"a":1}`
	now := testNow.Unix()
	wantResult(t, validate(t, chain, newRequest(t, "", sign("s", body, now-30), BytesBody(body))), "", 0)
	wantResult(t, validate(t, chain, newRequest(t, "", sign("s", body, now-31), BytesBody(body))), "timestamp outside tolerance", http.StatusUnauthorized)

	// Generic form with timestamp_header and no tolerance: 5m, like the presets.
	gen := mustBuild(t, hmacPP(configs.HMAC{Header: "X-Sig", SignedPayload: "{timestamp}.{body}", TimestampHeader: "X-Ts", Secret: "g"}))
	mk := func(ts int64) http.Header {
		s := strconv.FormatInt(ts, 10)
		return http.Header{"X-Ts": {s}, "X-Sig": {hex.EncodeToString(macOf(sha256.New, "g", s, ".", body))}}
	}
	wantResult(t, validate(t, gen, newRequest(t, "", mk(now+300), BytesBody(body))), "", 0)
	wantResult(t, validate(t, gen, newRequest(t, "", mk(now+301), BytesBody(body))), "timestamp outside tolerance", http.StatusUnauthorized)
	wantResult(t, validate(t, gen, newRequest(t, "", http.Header{"X-Ts": {"yesterday"}, "X-Sig": mk(now)["X-Sig"]}, BytesBody(body))), "invalid signature", http.StatusUnauthorized)
}

// The prefix is part of the format: the right MAC without it, or under
// another version tag, is not accepted.
func TestPrefixRequired(t *testing.T) {
	body := `{"a":1}`
	mac := hex.EncodeToString(macOf(sha256.New, "s", body))
	tests := []struct {
		name, value, want string
	}{
		{"with sha256= passes", "sha256=" + mac, ""},
		{"with surrounding spaces passes", " sha256=" + mac + " ", ""},
		{"bare hex is rejected", mac, "invalid signature"},
		{"sha1= is rejected", "sha1=" + mac, "invalid signature"},
		{"SHA256= is rejected", "SHA256=" + mac, "invalid signature"},
	}
	chain := mustBuild(t, hmacPP(configs.HMAC{Preset: "github", Secret: "s"}))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRequest(t, "", http.Header{"X-Hub-Signature-256": {tt.value}}, BytesBody(body))
			wantResult(t, validate(t, chain, r), tt.want, http.StatusUnauthorized)
		})
	}
}
