package gateway

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/configs"
)

// The request log masks every header a preset reads to check a request
// (SPEC §8), as the provider spells it or in any case, and leaves the
// provider's other headers, its dedup id among them, as sent. The header
// names are written out here, as the providers document them, so that a
// wrong preset table fails this test.
func TestRequestLogMasksEveryPresetsHeaders(t *testing.T) {
	tests := []struct {
		preset string
		masked []string
		kept   []string
	}{
		{"github", []string{"X-Hub-Signature-256"}, []string{"X-GitHub-Delivery", "X-Hub-Signature"}},
		{"github_sha1", []string{"X-Hub-Signature"}, []string{"X-GitHub-Delivery"}},
		{"stripe", []string{"Stripe-Signature"}, nil},
		{"shopify", []string{"X-Shopify-Hmac-Sha256"}, []string{"X-Shopify-Webhook-Id"}},
		{"slack", []string{"X-Slack-Signature", "X-Slack-Request-Timestamp"}, nil},
		{"standard_webhooks", []string{"webhook-signature", "webhook-timestamp", "webhook-id"}, nil},
		{"gitlab", []string{"X-Gitlab-Token"}, []string{"X-Gitlab-Event-UUID"}},
		{"twilio", []string{"X-Twilio-Signature"}, []string{"I-Twilio-Idempotency-Token"}},
	}
	if got, want := len(tests), len(configs.PresetNames()); got != want {
		t.Fatalf("%d presets tested, the table has %d; add the new one here", got, want)
	}
	for _, tt := range tests {
		t.Run(tt.preset, func(t *testing.T) {
			wc := configs.Webhook{PreProcessors: []configs.PreProcessor{{HMAC: &configs.HMAC{Preset: tt.preset, Secret: "s3cr3t-value"}}}}
			r := newRedactor(wc, nil)
			h := http.Header{}
			for _, n := range slices.Concat(tt.masked, tt.kept) {
				h[n] = []string{"v-" + n} // as the provider spells it
			}
			for _, n := range tt.masked {
				h[strings.ToUpper(n)] = []string{"upper-" + n}
			}
			got := r.header(h)
			for _, n := range tt.masked {
				for _, k := range []string{n, strings.ToUpper(n)} {
					if v := got[k]; len(v) != 1 || v[0] != Masked {
						t.Errorf("%s = %q, want masked", k, v)
					}
				}
			}
			for _, n := range tt.kept {
				if v := got[n]; len(v) != 1 || v[0] != "v-"+n {
					t.Errorf("%s = %q, want it as sent", n, v)
				}
			}
		})
	}
}
