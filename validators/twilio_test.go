package validators

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/hookgate/hookgate/configs"
)

// Twilio's documented algorithm
// (https://www.twilio.com/docs/usage/webhooks/webhooks-security), computed
// independently here for the cases the published example does not cover.
func TestTwilio(t *testing.T) {
	const token = "tw-token"
	sig := func(parts ...string) string {
		return base64.StdEncoding.EncodeToString(macOf(sha1.New, token, parts...))
	}
	form := "application/x-www-form-urlencoded"
	jsonBody := `{"MessageSid":"SM1"}`
	tests := []struct {
		name      string
		publicURL string
		url       string
		ct        string
		body      string
		sig       string
		want      string
	}{
		{"the URL with the default port added is accepted, as Twilio's libraries do",
			"https://hooks.example.com/webhooks/sms", "/webhooks/sms", form, "A=1",
			sig("https://hooks.example.com:443/webhooks/sms", "A", "1"), ""},
		{"the URL with its port removed is accepted",
			"https://hooks.example.com:8443/webhooks/sms", "/webhooks/sms", form, "A=1",
			sig("https://hooks.example.com/webhooks/sms", "A", "1"), ""},
		{"another host is rejected",
			"https://hooks.example.com/webhooks/sms", "/webhooks/sms", form, "A=1",
			sig("https://evil.example.com/webhooks/sms", "A", "1"), "invalid signature"},
		{"a repeated name signs its values sorted",
			"https://hooks.example.com/s", "/s", form, "Tag=zeta&B=2&Tag=alpha",
			sig("https://hooks.example.com/s", "B", "2", "Tag", "alpha", "Tag", "zeta"), ""},
		{"values in sent order are not what Twilio signs",
			"https://hooks.example.com/s", "/s", form, "Tag=zeta&B=2&Tag=alpha",
			sig("https://hooks.example.com/s", "B", "2", "Tag", "zeta", "Tag", "alpha"), "invalid signature"},
		{"the received query is what Twilio signed",
			"https://hooks.example.com/s", "/s?tenant=7", form, "A=1",
			sig("https://hooks.example.com/s?tenant=7", "A", "1"), ""},
		{"a JSON body covered by bodySHA256 passes",
			"https://hooks.example.com/s", "/s?bodySHA256=" + sha256Hex([]byte(jsonBody)), "application/json", jsonBody,
			sig("https://hooks.example.com/s?bodySHA256=" + sha256Hex([]byte(jsonBody))), ""},
		{"a JSON body that does not match bodySHA256 is rejected",
			"https://hooks.example.com/s", "/s?bodySHA256=" + sha256Hex([]byte("{}")), "application/json", jsonBody,
			sig("https://hooks.example.com/s?bodySHA256=" + sha256Hex([]byte("{}"))), "invalid signature: bodySHA256"},
		{"a JSON body without bodySHA256 is rejected, the body being unsigned",
			"https://hooks.example.com/s", "/s", "application/json", jsonBody,
			sig("https://hooks.example.com/s"), "invalid signature: a Twilio body must be a form"},
		{"a GET without body signs the URL alone",
			"https://hooks.example.com/s", "/s?CallSid=CA1", "", "",
			sig("https://hooks.example.com/s?CallSid=CA1"), ""},
		{"a signature that is not base64 is rejected",
			"https://hooks.example.com/s", "/s", form, "A=1", "%%%", "invalid signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chain := mustBuild(t, hmacPP(configs.HMAC{Preset: "twilio", Secret: token, PublicURL: tt.publicURL}))
			h := http.Header{"X-Twilio-Signature": {tt.sig}}
			if tt.ct != "" {
				h.Set("Content-Type", tt.ct)
			}
			wantResult(t, validate(t, chain, newRequest(t, tt.url, h, BytesBody(tt.body))), tt.want, http.StatusUnauthorized)
		})
	}
}

// Twilio's parameters must be sorted, so a form is held in memory; one
// above 1 MiB cannot be Twilio's and is refused rather than loaded.
func TestTwilioRefusesHugeForms(t *testing.T) {
	chain := mustBuild(t, hmacPP(configs.HMAC{Preset: "twilio", Secret: "t", PublicURL: "https://h.example/s"}))
	body := append([]byte("A="), bytes.Repeat([]byte("x"), 1<<20)...)
	h := http.Header{"X-Twilio-Signature": {base64.StdEncoding.EncodeToString(make([]byte, 20))}, "Content-Type": {"application/x-www-form-urlencoded"}}
	wantResult(t, validate(t, chain, newRequest(t, "/s", h, newFileBody(t, body))), "invalid signature: form body over", http.StatusUnauthorized)
}
