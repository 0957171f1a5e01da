package validators

import (
	"net/http"
	"testing"

	"github.com/hookgate/hookgate/configs"
)

// TestNeedsBodySaysWhichValidatorsReadTheBody: the validators that judge
// by headers and the peer address run before the body is read (SPEC §11),
// and they judge a request whose Body is nil exactly as one with a body.
func TestNeedsBodySaysWhichValidatorsReadTheBody(t *testing.T) {
	cases := []struct {
		name      string
		pp        configs.PreProcessor
		needsBody bool
		wrong     http.Header // headers that are refused
		refusal   string
		status    int
	}{
		{"header_secret reads a header", configs.PreProcessor{HeaderSecret: &configs.HeaderSecret{Header: "X-Token", Secret: "s3cret"}},
			false, http.Header{"X-Token": {"wrong"}}, msgWrongToken, http.StatusUnauthorized},
		{"basic_auth reads a header", configs.PreProcessor{BasicAuth: &configs.BasicAuth{Username: "erp", Password: "pw"}},
			false, http.Header{"Authorization": {"Basic ZXJwOm5vcGU="}}, msgBadCredentials, http.StatusUnauthorized},
		{"ip_allowlist reads the peer address", configs.PreProcessor{IPAllowlist: &configs.IPAllowlist{CIDRs: []string{"192.0.2.0/24"}}},
			false, nil, "", 0},
		{"the gitlab preset compares a header token", hmacPP(configs.HMAC{Preset: "gitlab", Secret: "tok"}),
			false, http.Header{"X-Gitlab-Token": {"wrong"}}, "invalid signature", http.StatusUnauthorized},
		{"the github preset signs the body", hmacPP(configs.HMAC{Preset: "github", Secret: "s"}), true, nil, "", 0},
		{"the stripe preset signs the body", hmacPP(configs.HMAC{Preset: "stripe", Secret: "whsec_x", Tolerance: 300e9}), true, nil, "", 0},
		{"the generic hmac signs the body", hmacPP(configs.HMAC{Header: "X-Sig", Secret: "s", Encoding: "hex", SignedPayload: "{body}"}), true, nil, "", 0},
		{"the twilio preset signs the form", hmacPP(configs.HMAC{Preset: "twilio", Secret: "s", PublicURL: "https://example.com/webhooks/test"}), true, nil, "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			chain := mustBuild(t, tc.pp)
			if got := chain[0].NeedsBody(); got != tc.needsBody {
				t.Fatalf("NeedsBody() = %v, want %v", got, tc.needsBody)
			}
			if tc.needsBody {
				return
			}
			h := http.Header{}
			if err := Sign([]configs.PreProcessor{tc.pp}, http.MethodPost, "/webhooks/test", h, nil, testNow); err != nil {
				t.Fatal(err)
			}
			wantResult(t, validate(t, chain, newRequest(t, "", h, nil)), "", 0)
			if tc.wrong != nil {
				wantResult(t, validate(t, chain, newRequest(t, "", tc.wrong, nil)), tc.refusal, tc.status)
			}
		})
	}
	t.Run("ip_allowlist refuses another peer without a body", func(t *testing.T) {
		chain := mustBuild(t, configs.PreProcessor{IPAllowlist: &configs.IPAllowlist{CIDRs: []string{"198.51.100.0/24"}}})
		wantResult(t, validate(t, chain, newRequest(t, "", nil, nil)), msgAddressRejected, http.StatusForbidden)
	})
}
