package validators

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/hookgate/hookgate/configs"
)

// Providers' own published examples: a test that passes here cannot agree
// with a wrong implementation of ours.

func TestPublishedVectors(t *testing.T) {
	// Twilio's example request, with the parameters form-encoded as Twilio
	// sends them ("+" must travel as %2B).
	twilioForm := url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+14158675310"},
		"Digits":  {"1234"},
		"From":    {"+14158675310"},
		"To":      {"+18005551212"},
	}.Encode()

	tests := []struct {
		name   string
		cfg    configs.HMAC
		url    string
		header http.Header
		body   string
		now    time.Time
	}{
		{
			// https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
			name:   "github docs example passes",
			cfg:    configs.HMAC{Preset: "github", Secret: "It's a Secret to Everybody"},
			header: http.Header{"X-Hub-Signature-256": {"sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"}},
			body:   "Hello, World!",
			now:    testNow,
		},
		{
			// https://github.com/standard-webhooks/standard-webhooks/blob/main/libraries/go/webhook_test.go (TestWebhookSign)
			name: "standard webhooks library vector passes",
			cfg:  configs.HMAC{Preset: "standard_webhooks", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
			header: http.Header{
				"Webhook-Id":        {"msg_p5jXN8AQM9LWM0D4loKWxJek"},
				"Webhook-Timestamp": {"1614265330"},
				"Webhook-Signature": {"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
			},
			body: `{"test": 2432232314}`,
			now:  time.Unix(1614265330, 0),
		},
		{
			// The same vector among the decoys of the multi-signature case of
			// the same test file.
			name: "standard webhooks vector passes among decoy signatures",
			cfg:  configs.HMAC{Preset: "standard_webhooks", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
			header: http.Header{
				"Webhook-Id":        {"msg_p5jXN8AQM9LWM0D4loKWxJek"},
				"Webhook-Timestamp": {"1614265330"},
				"Webhook-Signature": {"v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc= v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="},
			},
			body: `{"test": 2432232314}`,
			now:  time.Unix(1614265330, 0),
		},
		{
			// https://docs.slack.dev/authentication/verifying-requests-from-slack/
			// as used in https://github.com/slackapi/python-slack-sdk/blob/main/tests/slack_sdk/signature/test_signature_verifier.py
			name: "slack docs example passes",
			cfg:  configs.HMAC{Preset: "slack", Secret: "8f742231b10e8888abcd99yyyzzz85a5"},
			header: http.Header{
				"X-Slack-Request-Timestamp": {"1531420618"},
				"X-Slack-Signature":         {"v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"},
			},
			body: slackDocsBody,
			now:  time.Unix(1531420618, 0),
		},
		{
			// https://github.com/TwilioDevEd/api-snippets/blob/master/security/signature_validation/signature_validation.5.x.php
			// (the example of https://www.twilio.com/docs/usage/webhooks/webhooks-security)
			name: "twilio docs example passes",
			cfg:  configs.HMAC{Preset: "twilio", Secret: "12345", PublicURL: "https://mycompany.com/myapp.php?foo=1&bar=2"},
			url:  "/webhooks/twilio?foo=1&bar=2",
			header: http.Header{
				"X-Twilio-Signature": {"GvWf1cFY/Q7PnoempGyD5oXAezc="},
				"Content-Type":       {"application/x-www-form-urlencoded"},
			},
			body: twilioForm,
			now:  testNow,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustBuild(t, hmacPP(tt.cfg))
			for _, spooled := range []bool{false, true} {
				var body Body = BytesBody(tt.body)
				if spooled {
					body = newFileBody(t, []byte(tt.body))
				}
				r := newRequest(t, tt.url, tt.header.Clone(), body)
				r.Now = tt.now
				wantResult(t, validate(t, c, r), "", 0)

				// The same request with the body changed must fail.
				changed := []byte(tt.body)
				changed[len(changed)-1] ^= 0x01
				r = newRequest(t, tt.url, tt.header.Clone(), BytesBody(changed))
				r.Now = tt.now
				wantResult(t, validate(t, c, r), "invalid signature", http.StatusUnauthorized)
			}
		})
	}
}

const slackDocsBody = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"

// Signing reproduces the published signatures exactly.
func TestSignReproducesPublishedVectors(t *testing.T) {
	tests := []struct {
		name   string
		cfg    configs.HMAC
		id     string
		now    time.Time
		body   string
		header string
		want   string
	}{
		{"github", configs.HMAC{Preset: "github", Secret: "It's a Secret to Everybody"}, "", testNow,
			"Hello, World!", "X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"},
		{"standard webhooks", configs.HMAC{Preset: "standard_webhooks", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
			"msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0),
			`{"test": 2432232314}`, "Webhook-Signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
		{"slack", configs.HMAC{Preset: "slack", Secret: "8f742231b10e8888abcd99yyyzzz85a5"}, "", time.Unix(1531420618, 0),
			slackDocsBody, "X-Slack-Signature", "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if err := SignOutgoing(tt.cfg, h, []byte(tt.body), tt.id, tt.now); err != nil {
				t.Fatal(err)
			}
			if got := h.Get(tt.header); got != tt.want {
				t.Fatalf("%s = %q, want %q", tt.header, got, tt.want)
			}
		})
	}

	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	form := "CallSid=CA1234567890ABCDE&Caller=%2B14158675310&Digits=1234&From=%2B14158675310&To=%2B18005551212"
	pp := []configs.PreProcessor{hmacPP(configs.HMAC{Preset: "twilio", Secret: "12345", PublicURL: "https://mycompany.com/myapp.php?foo=1&bar=2"})}
	if err := Sign(pp, http.MethodPost, "http://127.0.0.1:8080/webhooks/twilio?foo=1&bar=2", h, []byte(form), testNow); err != nil {
		t.Fatal(err)
	}
	if got, want := h.Get("X-Twilio-Signature"), "GvWf1cFY/Q7PnoempGyD5oXAezc="; got != want {
		t.Fatalf("twilio: X-Twilio-Signature = %q, want %q", got, want)
	}
}
