package router

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
)

// The secrets of the table tests: an outgoing with every kind.
const (
	bearerToken  = "bearer/t0ken+<Secret>&é"
	apiKey       = `api-k3y"quoted"\x`
	signSecret   = "whsec_c2lnbmluZy1zZWNyZXQ="
	basicPass    = "p@ss w/rd"
	clientSecret = "cl1ent-s3cret"
)

func redactOutgoing() configs.Outgoing {
	return configs.Outgoing{
		Name: "o",
		Headers: []configs.KeyValue{
			{Key: "X-Api-Key", Value: apiKey},
			{Key: "X-Session-TOKEN", Value: "sess-v4lue"},
			{Key: "Proxy-Authorization", Value: "Basic cHJveHk6cHc="},
			{Key: "X-Hub-Signature-Extra", Value: "sig-v4lue"},
			{Key: "X-Client-Secret", Value: "cs-v4lue"},
			{Key: "X-Db-Password", Value: "pw-v4lue"},
			{Key: "X-Api-Version", Value: "2"}, // not a secret: kept
		},
		Signing: &configs.HMAC{Preset: "standard_webhooks", Secret: signSecret},
	}
}

// SPEC §11: every secret an outgoing sends is masked in every common
// spelling an echoing destination may use.
func TestRedactorMasksEverySecretInEveryCommonSpelling(t *testing.T) {
	bearer := newRedactor(redactOutgoing(), &configs.AuthProfile{Type: "bearer", Token: bearerToken})
	basicAuth := newRedactor(configs.Outgoing{}, &configs.AuthProfile{Type: "basic", Username: "hookgate", Password: basicPass})
	header := newRedactor(configs.Outgoing{}, &configs.AuthProfile{Type: "header", Header: "X-Key", Value: "hdr-v4lue"})
	oauth := newRedactor(configs.Outgoing{}, &configs.AuthProfile{Type: "oauth2_client_credentials", ClientID: "id/1", ClientSecret: clientSecret})
	oauth.remember("access-tok-1")
	oauth.remember("access-tok-2")
	goJSON := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	tests := []struct {
		name string
		r    *redactor
		in   string
		want string
	}{
		{"the bearer token as sent", bearer, "Authorization: Bearer " + bearerToken, "Authorization: Bearer ***"},
		{"the bearer token as Go's encoding/json writes it", bearer, goJSON(map[string]string{"auth": "Bearer " + bearerToken}), `{"auth":"Bearer ***"}`},
		{"the bearer token with / escaped, as PHP writes it", bearer, `{"auth":"Bearer bearer\/t0ken+\u003cSecret\u003e\u0026é"}`, `{"auth":"Bearer ***"}`},
		{"the bearer token in ASCII-only JSON with upper-case hex", bearer, `"bearer/t0ken+<Secret>&\u00E9"`, `"***"`},
		{"the bearer token in ASCII-only JSON, lower-case hex", bearer, `"bearer\/t0ken+<Secret>&\u00e9"`, `"***"`},
		{"the bearer token URL-encoded", bearer, "token=" + url.QueryEscape(bearerToken), "token=***"},
		{"the bearer token HTML-escaped", bearer, "<p>bearer/t0ken+&lt;Secret&gt;&amp;é</p>", "<p>***</p>"},
		{"an X-Api-Key with quotes and a backslash, JSON-escaped", bearer, goJSON(map[string][]string{"X-Api-Key": {apiKey}}), `{"X-Api-Key":["***"]}`},
		{"every header whose name says it is a secret", bearer,
			"sess-v4lue Basic cHJveHk6cHc= sig-v4lue cs-v4lue pw-v4lue 2", "*** *** *** *** *** 2"},
		{"the signing secret and its key", bearer, signSecret + " c2lnbmluZy1zZWNyZXQ=", "*** ***"},
		{"basic: the password and the whole credentials", basicAuth,
			"Basic " + base64.StdEncoding.EncodeToString([]byte("hookgate:"+basicPass)) + " pw=" + basicPass, "Basic *** pw=***"},
		{"header profile value", header, "X-Key: hdr-v4lue", "X-Key: ***"},
		{"oauth2: the client secret, its Basic form and the access tokens", oauth,
			"secret=" + clientSecret + "&basic=" + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape("id/1")+":"+clientSecret)) + " access-tok-1 access-tok-2",
			"secret=***&basic=*** *** ***"},
		{"text without secrets is unchanged", bearer, `{"error":"invalid order","field":"qty"}`, `{"error":"invalid order","field":"qty"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.text(tt.in); got != tt.want {
				t.Errorf("text(%q)\n = %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactorForgetsOldTokens(t *testing.T) {
	r := newRedactor(configs.Outgoing{}, nil)
	for i := range maxRememberedTokens + 1 {
		r.remember(fmt.Sprintf("tok-%d-abcdef", i))
	}
	if got := r.text("tok-0-abcdef tok-1-abcdef tok-4-abcdef"); got != "tok-0-abcdef *** ***" {
		t.Errorf("got %q; want the oldest of %d tokens kept, the others masked", got, maxRememberedTokens+1)
	}
}

// SPEC §9, §11: the attempt log keeps the first 1KiB; a secret that
// straddles the cut, or that the capture cut off, leaks not even its start.
func TestRedactorResponseCutNeverLeaksTheStartOfASecret(t *testing.T) {
	const secret = "S3CRET-abcdefghijklmnopqrstuvwxyz"
	r := newRedactor(configs.Outgoing{}, &configs.AuthProfile{Type: "bearer", Token: secret})
	pad := func(n int) string { return strings.Repeat(".", n) }
	tests := []struct {
		name      string
		captured  string
		truncated bool
		want      string
	}{
		{"a short echo is masked", "token " + secret + " end", false, "token *** end"},
		{"a secret straddling the 1KiB cut is masked whole", pad(1010) + secret + pad(100), true, pad(1010) + "***" + pad(11)},
		{"a secret that begins right at the cut is gone", pad(1024) + secret, true, pad(1024)},
		{"a secret the capture cut off is masked at the end", pad(1000) + secret[:20], true, pad(1000) + "***"},
		{"secrets before pull a cut-off one under the cut", strings.Repeat(secret, 30) + pad(100) + secret[:10], true,
			strings.Repeat("***", 30) + pad(100) + "***"},
		// Its own ending, not a cut of hookgate's: no secret was cut off.
		{"an answer that ended is not cut", pad(10) + "S3C", false, pad(10) + "S3C"},
		{"a long answer without secrets keeps its first 1KiB", pad(2000), true, pad(1024)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.response([]byte(tt.captured), tt.truncated)
			if got != tt.want {
				t.Errorf("response\n = %q\nwant %q", got, tt.want)
			}
			if len(got) > MaxLoggedResponse+len(mask) {
				t.Errorf("%d bytes kept, want at most %d", len(got), MaxLoggedResponse+len(mask))
			}
			for i := 3; tt.truncated && i <= len(secret); i++ {
				if strings.Contains(got, secret[:i]) {
					t.Fatalf("the first %d bytes of the secret are kept: %q", i, got)
				}
			}
		})
	}
	if n := r.captureLimit(); n < MaxLoggedResponse+len(secret) {
		t.Errorf("captureLimit %d, want at least %d", n, MaxLoggedResponse+len(secret))
	}
}

func TestRedactedErrorKeepsItsCause(t *testing.T) {
	r := newRedactor(configs.Outgoing{}, &configs.AuthProfile{Type: "bearer", Token: "tok-secret"})
	err := r.err(fmt.Errorf("redirect 302 to tok-secret.evil.example not followed: %w", errAddressNotAllowed))
	if err.Error() != "redirect 302 to ***.evil.example not followed: destination address not allowed" || !errors.Is(err, errAddressNotAllowed) {
		t.Errorf("err = %q (Is %v)", err, errors.Is(err, errAddressNotAllowed))
	}
}

// Through NATS: a destination that echoes every request header in its 400
// answer leaves neither its bearer token nor its API key in the attempt
// log or the dead letter; a redirect to a host named after the token does
// not either.
func TestEchoedSecretsAreMaskedInTheAttemptLogAndTheDeadLetter(t *testing.T) {
	js := startJSWithLog(t)
	const token, key = "tok3n-echoed-back", "k3y/echoed<back>"
	rc := newReceiver(t, func(n int, a arrival, w http.ResponseWriter) {
		if n == 0 {
			w.Header().Set("Location", "http://"+token+".example/")
			w.WriteHeader(http.StatusFound)
			return
		}
		b, _ := json.Marshal(a.header)
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(strings.ReplaceAll(string(b), "/", `\/`)))
	})
	out := testOutgoing("echo", rc.URL)
	out.Auth = "p"
	out.Headers = []configs.KeyValue{{Key: "X-Api-Key", Value: key}}
	cfg := testConfig(configs.Route{}, out)
	cfg.AuthProfiles = []configs.AuthProfile{{Name: "p", Type: "bearer", Token: token, AllowedDomains: []string{"127.0.0.1"}}}
	startRouter(t, cfg, js)
	publishTask(t, js, "tasks.orders", "req-orders-0", `{"n":1}`)

	dl := nextDeadLetter(t, js, bus.DLQSubject("r", "echo"))
	got := attempts(t, js, "r", "echo", 2)
	if e := got[0].Error; e != "redirect 302 to ***.example not followed" {
		t.Errorf("first attempt error %q, want the redirect with the token masked", e)
	}
	if r := got[1].Response; !strings.Contains(r, `"Authorization":["Bearer ***"]`) || !strings.Contains(r, `"X-Api-Key":["***"]`) {
		t.Errorf("echo kept as %q; want the token and key masked and the rest kept", r)
	}
	var kept strings.Builder
	for _, e := range got {
		b, _ := json.Marshal(e)
		kept.Write(b)
		kept.WriteString(e.Response + e.Error)
	}
	for k, v := range dl.Headers() {
		kept.WriteString(k + ": " + strings.Join(v, ",") + "\n")
	}
	for _, s := range []string{token, key, `k3y\/echoed`, "tok3n"} {
		if strings.Contains(kept.String(), s) {
			t.Errorf("%q is kept:\n%s", s, kept.String())
		}
	}
}

// BenchmarkRedactResponse is the cost every logged attempt pays: a 1KiB
// answer against an outgoing with every kind of secret.
func BenchmarkRedactResponse(b *testing.B) {
	r := newRedactor(redactOutgoing(), &configs.AuthProfile{Type: "bearer", Token: bearerToken})
	body := []byte(strings.Repeat(`{"id":12345,"status":"accepted","message":"the order was queued"},`, 20)[:MaxLoggedResponse+40])
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		_ = r.response(body, true)
	}
}
