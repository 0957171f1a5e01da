package test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// presetsConfig has one webhook per validator kind and HMAC preset, each
// with its own incoming configuration so that tasks can be counted apart.
const presetsConfig = baseConfig + `
webhooks:
  - {name: github, incoming: github, pre_processors: [{hmac: {preset: github, secret: "It's a Secret to Everybody"}}]}
  - {name: github-sha1, incoming: github-sha1, pre_processors: [{hmac: {preset: github_sha1, secret: s3cr3t}}]}
  - {name: stripe, incoming: stripe, pre_processors: [{hmac: {preset: stripe, secrets: [whsec_old, whsec_test_secret]}}]}
  - {name: shopify, incoming: shopify, pre_processors: [{hmac: {preset: shopify, secret: shpss_secret}}]}
  - {name: slack, incoming: slack, pre_processors: [{hmac: {preset: slack, secret: 8f742231b10e8888abcd99yyyzzz85a5}}]}
  - {name: standard, incoming: standard, pre_processors: [{hmac: {preset: standard_webhooks, secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}}]}
  - {name: gitlab, incoming: gitlab, pre_processors: [{hmac: {preset: gitlab, secret: glsecret}}]}
  - name: twilio
    incoming: twilio
    pre_processors: [{hmac: {preset: twilio, secret: 12345, public_url: "https://mycompany.example.com/myapp.php?foo=1&bar=2"}}]
  - name: generic
    incoming: generic
    pre_processors:
      - hmac: {header: X-Signature, algorithm: sha512, encoding: base64, prefix: "v1=", signed_payload: "{id}.{timestamp}.{body}", timestamp_header: X-Timestamp, id_header: X-Id, tolerance: 5m, secret: gen}
  - {name: basic, incoming: basic, pre_processors: [{basic_auth: {username: erp, password: pw}}]}
  - {name: allowed, incoming: allowed, pre_processors: [{ip_allowlist: {cidrs: [127.0.0.0/8]}}]}
  - {name: denied, incoming: denied, pre_processors: [{ip_allowlist: {cidrs: [192.0.2.0/24]}}]}
  - {name: github-big, incoming: big-items, pre_processors: [{hmac: {preset: github, secret: big-secret}}]}
incoming:
  - {name: big-items, parser: json, pattern_to_items: items, read_method: incremental}
  - {name: github, parser: json}
  - {name: github-sha1, parser: json}
  - {name: stripe, parser: json}
  - {name: shopify, parser: json}
  - {name: slack, parser: json}
  - {name: standard, parser: json}
  - {name: gitlab, parser: json}
  - {name: twilio, parser: form}
  - {name: generic, parser: json}
  - {name: basic, parser: json}
  - {name: allowed, parser: json}
  - {name: denied, parser: json}
`

func TestEveryPresetThroughTheBinary(t *testing.T) {
	dir := writeConfig(t, map[string]string{"hookgate.yaml": presetsConfig})
	hg := start(t, dir)
	files := t.TempDir()
	jsonFile := filepath.Join(files, "event.json")
	formFile := filepath.Join(files, "sms.form")
	os.WriteFile(jsonFile, []byte(`{"id":"evt_1","object":"event","data":{"n":1}}`), 0o644)
	os.WriteFile(formFile, []byte("CallSid=CA1234567890ABCDE&Caller=%2B14158675309&Digits=1234&From=%2B14158675309&To=%2B18005551212"), 0o644)

	cases := []struct {
		id, file     string
		unsigned     int    // status of the same request without its credentials
		unsignedMsg  string // error prefix
		unsignedHdrs []string
	}{
		{"github", jsonFile, 401, "missing signature header X-Hub-Signature-256", nil},
		{"github-sha1", jsonFile, 401, "missing signature header X-Hub-Signature", nil},
		{"stripe", jsonFile, 401, "invalid signature", []string{"Stripe-Signature: t=1,v1=00"}},
		{"shopify", jsonFile, 401, "invalid signature", []string{"X-Shopify-Hmac-Sha256: AAAA"}},
		{"slack", jsonFile, 401, "missing signature header X-Slack-Signature", nil},
		{"standard", jsonFile, 401, "missing signature header", nil},
		{"gitlab", jsonFile, 401, "invalid signature", []string{"X-Gitlab-Token: wrong"}},
		{"twilio", formFile, 401, "invalid signature", []string{"X-Twilio-Signature: bm90IGl0"}},
		{"generic", jsonFile, 401, "missing signature header X-Signature", nil},
		{"basic", jsonFile, 401, "", []string{"Authorization: Basic ZXJwOndyb25n"}},
		{"allowed", jsonFile, 0, "", nil},
		{"denied", jsonFile, 403, "address not allowed", nil},
	}
	for _, tc := range cases {
		t.Run(tc.id, func(t *testing.T) {
			send := exec.Command(binary, "send", tc.id, "-c", dir, "--file", tc.file, "--url", hg.URL+"/webhooks/"+tc.id)
			out, err := send.CombinedOutput()
			if tc.unsigned == 403 {
				if err == nil || !strings.HasPrefix(string(out), "403") {
					t.Fatalf("send to a denied address: %v %s", err, out)
				}
			} else if err != nil || !strings.HasPrefix(string(out), "200 OK") {
				t.Fatalf("send: %v\n%s", err, out)
			}
			if tc.unsigned != 0 && tc.unsigned != 403 {
				ct := "application/json"
				if strings.HasSuffix(tc.file, ".form") {
					ct = "application/x-www-form-urlencoded"
				}
				body, _ := os.ReadFile(tc.file)
				resp := hg.post(tc.id, ct, body, tc.unsignedHdrs...)
				msg, _ := resp.Body["error"].(string)
				if resp.Status != tc.unsigned || !strings.HasPrefix(msg, tc.unsignedMsg) {
					t.Errorf("without credentials: %d %q, want %d %q", resp.Status, msg, tc.unsigned, tc.unsignedMsg)
				}
				if tc.id == "basic" && resp.Header.Get("WWW-Authenticate") != `Basic realm="hookgate"` {
					t.Errorf("WWW-Authenticate %q", resp.Header.Get("WWW-Authenticate"))
				}
			}
			want := 1
			if tc.unsigned == 403 {
				want = 0
			}
			if n := len(storedTasks(t, hg.NATSURL, "tasks."+tc.id)); n != want {
				t.Errorf("%d tasks stored, want %d (only the signed request)", n, want)
			}
		})
	}
}

func TestPresetDedupKeyMakesASendersRetryADuplicate(t *testing.T) {
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": presetsConfig}))
	body := []byte(`{"action":"opened","number":7}`)
	mac := hmac.New(sha256.New, []byte("It's a Secret to Everybody"))
	mac.Write(body)
	sig := "X-Hub-Signature-256: sha256=" + hex.EncodeToString(mac.Sum(nil))

	first := hg.post("github", "application/json", body, sig, "X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958")
	retry := hg.post("github", "application/json", body, sig, "X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958")
	other := hg.post("github", "application/json", body, sig, "X-GitHub-Delivery: 0b8e1f2a-cc78-11e3-81ab-4c9367dc0958")
	if first.Status != 200 || first.Body["duplicate"] != nil {
		t.Fatalf("first delivery: %d %s", first.Status, first.Raw)
	}
	if retry.Status != 200 || retry.Body["duplicate"] != true || retry.Body["tasks"] != float64(1) {
		t.Fatalf("retry: %d %s, want 200 with duplicate true", retry.Status, retry.Raw)
	}
	if other.Status != 200 || other.Body["duplicate"] != nil {
		t.Fatalf("another delivery: %d %s", other.Status, other.Raw)
	}
	tasks := storedTasks(t, hg.NATSURL, "tasks.github")
	if len(tasks) != 2 {
		t.Fatalf("%d tasks stored, want 2 (the retry stores nothing)", len(tasks))
	}
	if got := tasks[0].Header.Get("Nats-Msg-Id"); got != "github/github/72d3162e-cc78-11e3-81ab-4c9367dc0958/0" {
		t.Errorf("Nats-Msg-Id %q, want the X-GitHub-Delivery id", got)
	}
}

// A body above 1 MiB is spooled while the signature is checked, and a
// forged one publishes nothing even with an incremental parser.
func TestSpooledBodyIsVerifiedBeforeAnyTaskIsPublished(t *testing.T) {
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": presetsConfig}))
	var sb strings.Builder
	sb.WriteString(`{"items":[`)
	for i := 0; sb.Len() < 3<<20; i++ {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"n":%d,"pad":"%s"}`, i, strings.Repeat("p", 1000))
	}
	sb.WriteString(`]}`)
	body := []byte(sb.String())
	items := strings.Count(sb.String(), `"n":`)
	sign := func(b []byte) string {
		mac := hmac.New(sha256.New, []byte("big-secret"))
		mac.Write(b)
		return "X-Hub-Signature-256: sha256=" + hex.EncodeToString(mac.Sum(nil))
	}

	forged := append([]byte{}, body...)
	forged[len(forged)-10] = 'q' // one byte near the end, past the first MiB
	resp := hg.post("github-big", "application/json", forged, sign(body))
	if resp.Status != 401 || resp.Body["error"] != "invalid signature" {
		t.Fatalf("forged 3 MiB body: %d %s", resp.Status, resp.Raw)
	}
	if n := len(storedTasks(t, hg.NATSURL, "tasks.big-items")); n != 0 {
		t.Fatalf("a forged request published %d tasks", n)
	}

	resp = hg.post("github-big", "application/json", body, sign(body))
	if resp.Status != 200 || resp.Body["tasks"] != float64(items) {
		t.Fatalf("signed 3 MiB body: %d %s, want 200 with %d tasks", resp.Status, resp.Raw, items)
	}
	tasks := storedTasks(t, hg.NATSURL, "tasks.big-items")
	if len(tasks) != items || !strings.HasPrefix(string(tasks[items-1].Data), fmt.Sprintf(`{"n":%d,`, items-1)) {
		t.Fatalf("%d tasks stored, want %d in order", len(tasks), items)
	}
	if tasks[0].Header.Get("ce-itemcount") != "" {
		t.Errorf("incremental tasks carry ce-itemcount %q; it must be absent", tasks[0].Header.Get("ce-itemcount"))
	}
}
