package validators

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/configs"
)

// Every kind and preset: what Sign produces, Build(...).Validate accepts,
// in memory and spooled; and a flipped body byte is caught wherever the
// scheme covers the body.
func TestSignThenValidateRoundTrip(t *testing.T) {
	jsonBody := []byte(`{"id":"evt_9","items":[{"sku":"A-1","qty":2}]}`)
	formBody := []byte("AccountSid=AC1&Body=caf%C3%A9+%2B+more&From=%2B15005550006&Body=second")
	tests := []struct {
		name        string
		pp          []configs.PreProcessor
		url         string
		contentType string
		body        []byte
		coversBody  bool
	}{
		{"header_secret", []configs.PreProcessor{{HeaderSecret: &configs.HeaderSecret{Header: "X-Alumio-Auth", Secret: "erp-s3cret"}}}, "", "", jsonBody, false},
		{"header_secret with prefix", []configs.PreProcessor{{HeaderSecret: &configs.HeaderSecret{Header: "Authorization", Prefix: "Bearer ", Secret: "tok"}}}, "", "", jsonBody, false},
		{"basic_auth", []configs.PreProcessor{{BasicAuth: &configs.BasicAuth{Username: "erp", Password: "pa:ss"}}}, "", "", jsonBody, false},
		{"ip_allowlist has nothing to sign", []configs.PreProcessor{{IPAllowlist: &configs.IPAllowlist{CIDRs: []string{"192.0.2.0/24"}}}}, "", "", jsonBody, false},
		{"github", []configs.PreProcessor{hmacPP(configs.HMAC{Preset: "github", Secret: "gh"})}, "", "", jsonBody, true},
		{"github_sha1", []configs.PreProcessor{hmacPP(configs.HMAC{Preset: "github_sha1", Secret: "gh"})}, "", "", jsonBody, true},
		{"stripe", []configs.PreProcessor{hmacPP(configs.HMAC{Preset: "stripe", Secret: "whsec_abc"})}, "", "", jsonBody, true},
		{"shopify", []configs.PreProcessor{hmacPP(configs.HMAC{Preset: "shopify", Secret: "shp"})}, "", "", jsonBody, true},
		{"slack", []configs.PreProcessor{hmacPP(configs.HMAC{Preset: "slack", Secret: "sl"})}, "", "", jsonBody, true},
		{"standard_webhooks", []configs.PreProcessor{hmacPP(configs.HMAC{Preset: "standard_webhooks", Secret: swhSecret(swhKey)})}, "", "", jsonBody, true},
		{"gitlab", []configs.PreProcessor{hmacPP(configs.HMAC{Preset: "gitlab", Secret: "gl"})}, "", "", jsonBody, false},
		{"twilio form", []configs.PreProcessor{hmacPP(configs.HMAC{Preset: "twilio", Secret: "tw", PublicURL: "https://hooks.example.com:8443/webhooks/sms"})},
			"http://127.0.0.1:8080/webhooks/sms", "application/x-www-form-urlencoded", formBody, true},
		{"twilio JSON with bodySHA256", []configs.PreProcessor{hmacPP(configs.HMAC{Preset: "twilio", Secret: "tw", PublicURL: "https://hooks.example.com/webhooks/sms"})},
			"http://127.0.0.1:8080/webhooks/sms?bodySHA256=" + sha256Hex(jsonBody), "application/json", jsonBody, true},
		{"generic", []configs.PreProcessor{hmacPP(configs.HMAC{Header: "X-Signature", Algorithm: "sha512", Encoding: "base64", Prefix: "sha512=",
			SignedPayload: "{timestamp}.{id}.{body}", TimestampHeader: "X-Timestamp", IDHeader: "X-Delivery", Secret: "gen"})}, "", "", jsonBody, true},
		{"a chain of several validators", []configs.PreProcessor{
			{HeaderSecret: &configs.HeaderSecret{Header: "X-Token", Secret: "t"}},
			{BasicAuth: &configs.BasicAuth{Username: "u", Password: "p"}},
			hmacPP(configs.HMAC{Preset: "github", Secret: "gh"}),
			hmacPP(configs.HMAC{Preset: "standard_webhooks", Secret: swhSecret("k")}),
		}, "", "", jsonBody, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.contentType != "" {
				h.Set("Content-Type", tt.contentType)
			}
			rawURL := tt.url
			if rawURL == "" {
				rawURL = "http://127.0.0.1:8080/webhooks/test"
			}
			if err := Sign(tt.pp, http.MethodPost, rawURL, h, tt.body, testNow); err != nil {
				t.Fatalf("Sign: %v", err)
			}
			chain := mustBuild(t, tt.pp...)
			for _, spooled := range []bool{false, true} {
				var body Body = BytesBody(tt.body)
				if spooled {
					body = newFileBody(t, tt.body)
				}
				r := newRequest(t, rawURL, h.Clone(), body)
				wantResult(t, validate(t, chain, r), "", 0)
			}
			flipped := append([]byte(nil), tt.body...)
			flipped[len(flipped)-2] ^= 0x01
			err := validate(t, chain, newRequest(t, rawURL, h.Clone(), BytesBody(flipped)))
			if tt.coversBody {
				wantResult(t, err, "invalid signature", http.StatusUnauthorized)
			} else if err != nil {
				t.Fatalf("%s does not cover the body, yet a changed body failed: %v", tt.name, err)
			}
		})
	}
}

func TestSignKeepsAnIDAlreadySet(t *testing.T) {
	pp := []configs.PreProcessor{hmacPP(configs.HMAC{Preset: "standard_webhooks", Secret: swhSecret(swhKey)})}
	h := http.Header{"Webhook-Id": {"msg_mine"}}
	if err := Sign(pp, http.MethodPost, "http://127.0.0.1/x", h, []byte("{}"), testNow); err != nil {
		t.Fatal(err)
	}
	if got := h.Get("Webhook-Id"); got != "msg_mine" {
		t.Fatalf("webhook-id = %q, want the one already set", got)
	}
	h2 := http.Header{}
	if err := Sign(pp, http.MethodPost, "http://127.0.0.1/x", h2, []byte("{}"), testNow); err != nil {
		t.Fatal(err)
	}
	h3 := http.Header{}
	if err := Sign(pp, http.MethodPost, "http://127.0.0.1/x", h3, []byte("{}"), testNow); err != nil {
		t.Fatal(err)
	}
	if h2.Get("Webhook-Id") == "" || h2.Get("Webhook-Id") == h3.Get("Webhook-Id") {
		t.Fatalf("want a fresh id per call, got %q and %q", h2.Get("Webhook-Id"), h3.Get("Webhook-Id"))
	}
}

func TestSignRefusesWhatItCannotSign(t *testing.T) {
	tests := []struct {
		name string
		pp   []configs.PreProcessor
		ct   string
	}{
		{"an invalid config", []configs.PreProcessor{hmacPP(configs.HMAC{Preset: "nope", Secret: "s"})}, ""},
		{"a twilio JSON body without bodySHA256", []configs.PreProcessor{hmacPP(configs.HMAC{Preset: "twilio", Secret: "s", PublicURL: "https://a.example/x"})}, "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{"Content-Type": {tt.ct}}
			if err := Sign(tt.pp, http.MethodPost, "http://127.0.0.1/x", h, []byte(`{"a":1}`), testNow); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

// SignOutgoing produces what the receiving side's validator (ours, with the
// same config) accepts, with the task's ce-id as the message id.
func TestSignOutgoing(t *testing.T) {
	body := []byte(`{"orderId":"42"}`)
	const ceID = "0190f1c2-7a3b-7c4d-8e5f-0123456789ab-erp-stock-0"
	tests := []struct {
		name    string
		cfg     configs.HMAC
		idKey   string
		wantErr bool
	}{
		{"standard_webhooks uses the ce-id as webhook-id", configs.HMAC{Preset: "standard_webhooks", Secret: swhSecret(swhKey)}, "Webhook-Id", false},
		{"github", configs.HMAC{Preset: "github", Secret: "gh"}, "", false},
		{"generic with id header", configs.HMAC{Header: "X-Sig", Algorithm: "sha256", SignedPayload: "{id}.{timestamp}.{body}", IDHeader: "X-Id", TimestampHeader: "X-Ts", Secret: "g"}, "X-Id", false},
		{"twilio cannot sign deliveries", configs.HMAC{Preset: "twilio", Secret: "s", PublicURL: "https://a.example/x"}, "", true},
		{"an unknown preset is an error", configs.HMAC{Preset: "githib", Secret: "s"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			err := SignOutgoing(tt.cfg, h, body, ceID, testNow)
			if tt.wantErr {
				if err == nil {
					t.Fatal("want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.idKey != "" && h.Get(tt.idKey) != ceID {
				t.Fatalf("%s = %q, want %q", tt.idKey, h.Get(tt.idKey), ceID)
			}
			chain := mustBuild(t, hmacPP(tt.cfg))
			r := newRequest(t, "", h, BytesBody(body))
			r.Now = testNow.Add(time.Minute)
			wantResult(t, validate(t, chain, r), "", 0)
		})
	}
}

// A Chain is shared by every request of a webhook: validating from many
// goroutines at once must be race-free and give each request its own answer.
func TestConcurrentValidation(t *testing.T) {
	pp := []configs.PreProcessor{hmacPP(configs.HMAC{Preset: "stripe", Secret: "whsec_c", Secrets: []string{"whsec_d"}})}
	chain := mustBuild(t, pp...)
	body := []byte(`{"id":"evt_c"}`)
	good := http.Header{}
	if err := Sign(pp, http.MethodPost, "", good, body, testNow); err != nil {
		t.Fatal(err)
	}
	bad := good.Clone()
	bad.Set("Stripe-Signature", strings.Replace(good.Get("Stripe-Signature"), "v1=", "v1=00", 1)[:len(good.Get("Stripe-Signature"))])
	errs := make(chan error, 64)
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			h, want := good, ""
			if i%2 == 1 {
				h, want = bad, "invalid signature"
			}
			for range 50 {
				err := chain.Validate(context.Background(), newRequest(t, "", h.Clone(), BytesBody(body)))
				if (want == "") != (err == nil) {
					errs <- fmt.Errorf("goroutine %d: got %v, want %q", i, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
