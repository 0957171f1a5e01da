package test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// adminConfig is baseConfig with the admin listener on: its token and the
// webhook's secret must never show in an admin answer.
var adminConfig = withAdmin(baseConfig, "t0ken") + `
incoming: [{name: items, parser: json}]
webhooks:
  - name: Orders
    incoming: items
    pre_processors:
      - header_secret: {header: X-Auth, secret: e2e-header-secret}
`

// withAdmin is config, built on baseConfig, with the admin listener on
// behind token.
func withAdmin(config, token string) string {
	return strings.Replace(config, `admin: {listen: ""}`, `admin: {listen: "127.0.0.1:0", token: `+token+`}`, 1)
}

// adminURL is http://<the started line's admin field>.
func adminURL(t *testing.T, hg *instance) string {
	t.Helper()
	for _, raw := range strings.Split(hg.log.String(), "\n") {
		var line map[string]any
		if json.Unmarshal([]byte(raw), &line) == nil && line["msg"] == "hookgate started" {
			addr, _ := line["admin"].(string)
			if addr == "" {
				t.Fatalf("the started line has no admin address: %s", raw)
			}
			return "http://" + addr
		}
	}
	t.Fatalf("no started line\n%s", hg.log)
	return ""
}

// adminCall sends one admin request; token "" sends no Authorization.
func adminCall(t *testing.T, method, url, token string) (int, string) {
	t.Helper()
	return adminSend(t, method, url, func(req *http.Request) {
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
	})
}

// adminSend sends one bodiless request that set prepares and returns the
// answer's status and body.
func adminSend(t *testing.T, method, url string, set func(*http.Request)) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	set(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// sample reports whether the /metrics text has the line "series value".
func sample(exposition, series, value string) bool {
	for _, line := range strings.Split(exposition, "\n") {
		if line == series+" "+value {
			return true
		}
	}
	return false
}

// SPEC §9: metrics on admin.listen without a token, the admin API behind
// it, no secret in its answers, and POST /api/v1/reload (§8: an invalid
// config is refused and the old one keeps serving).
func TestAdminListenerServesMetricsTheAPIAndReloads(t *testing.T) {
	t.Parallel()
	dir := writeConfig(t, map[string]string{"hookgate.yaml": adminConfig})
	hg := start(t, dir)
	admin := adminURL(t, hg)

	if r := hg.post("orders", "application/json", []byte(`{"n":1}`), "X-Auth: e2e-header-secret"); r.Status != 200 {
		t.Fatalf("valid request: %d %s", r.Status, r.Raw)
	}
	if r := hg.post("orders", "application/json", []byte(`{"n":2}`), "X-Auth: wrong"); r.Status != 401 {
		t.Fatalf("wrong secret: %d %s", r.Status, r.Raw)
	}

	status, metrics := adminCall(t, "GET", admin+"/metrics", "")
	if status != 200 {
		t.Fatalf("/metrics without a token: %d %s", status, metrics)
	}
	for _, want := range [][2]string{
		{`hookgate_requests_total{status="200",webhook="orders"}`, "1"},
		{`hookgate_requests_total{status="401",webhook="orders"}`, "1"},
		{`hookgate_validation_failures_total{validator="header_secret",webhook="orders"}`, "1"},
		{`hookgate_tasks_published_total{incoming="items",webhook="orders"}`, "1"},
		{`hookgate_request_duration_seconds_count{webhook="orders"}`, "2"},
	} {
		if !sample(metrics, want[0], want[1]) {
			t.Errorf("/metrics lacks %s %s", want[0], want[1])
		}
	}

	for _, tc := range []struct {
		name, token string
		status      int
	}{
		{"no token", "", 401},
		{"a wrong token", "t0ken-not", 401},
		{"the token", "t0ken", 200},
	} {
		status, body := adminCall(t, "GET", admin+"/api/v1/webhooks", tc.token)
		if status != tc.status {
			t.Errorf("/api/v1/webhooks with %s: %d %s, want %d", tc.name, status, body, tc.status)
			continue
		}
		if status != 200 {
			continue
		}
		var got struct {
			Webhooks []struct {
				Identifier string
				Validators []struct{ Kind string }
			}
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("/api/v1/webhooks is not JSON: %v: %s", err, body)
		}
		if len(got.Webhooks) != 1 || got.Webhooks[0].Identifier != "orders" ||
			len(got.Webhooks[0].Validators) != 1 || got.Webhooks[0].Validators[0].Kind != "header_secret" {
			t.Errorf("/api/v1/webhooks: %s", body)
		}
		for _, secret := range []string{"e2e-header-secret", "t0ken"} {
			if strings.Contains(body, secret) {
				t.Errorf("/api/v1/webhooks shows the secret %q: %s", secret, body)
			}
		}
	}

	write := func(text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "hookgate.yaml"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if status, body := adminCall(t, "POST", admin+"/api/v1/reload", ""); status != 401 {
		t.Errorf("reload without a token: %d %s", status, body)
	}
	write(adminConfig + "  - {name: Second, incoming: items}\n")
	if status, body := adminCall(t, "POST", admin+"/api/v1/reload", "t0ken"); status != 200 || strings.TrimSpace(body) != `{"reloaded":true}` {
		t.Fatalf("reload: %d %s", status, body)
	}
	if r := hg.post("second", "application/json", []byte(`{"n":3}`)); r.Status != 200 {
		t.Fatalf("the reloaded config's new webhook: %d %s", r.Status, r.Raw)
	}

	write(adminConfig + "  - {name: Third, incoming: nowhere}\n")
	status, body := adminCall(t, "POST", admin+"/api/v1/reload", "t0ken")
	if status != 422 || !strings.Contains(body, `\"nowhere\"`) {
		t.Errorf("invalid reload: %d %s, want 422 naming the undefined incoming", status, body)
	}
	if strings.Contains(body, "e2e-header-secret") || strings.Contains(body, "t0ken") {
		t.Errorf("the refusal shows a secret: %s", body)
	}
	if r := hg.post("second", "application/json", []byte(`{"n":4}`)); r.Status != 200 {
		t.Errorf("after a refused reload the old config should serve: %d %s", r.Status, r.Raw)
	}
	if r := hg.post("third", "application/json", []byte(`{"n":4}`)); r.Status != 404 {
		t.Errorf("the refused config's webhook answers %d, want 404", r.Status)
	}
	if !strings.Contains(hg.log.String(), "config reload refused") {
		t.Errorf("the refused reload is not logged:\n%s", hg.log)
	}

	_, metrics = adminCall(t, "GET", admin+"/metrics", "")
	for _, want := range [][2]string{
		{`hookgate_config_reloads_total{result="success"}`, "1"},
		{`hookgate_config_reloads_total{result="failure"}`, "1"},
		{`hookgate_requests_total{status="200",webhook="second"}`, "2"},
		// Exported from the start, so that an alert on drops works before the first.
		{`hookgate_log_entries_dropped_total{log="requests"}`, "0"},
		{`hookgate_log_entries_dropped_total{log="deliveries"}`, "0"},
		{`hookgate_log_entries_failed_total{log="requests"}`, "0"},
	} {
		if !sample(metrics, want[0], want[1]) {
			t.Errorf("/metrics lacks %s %s", want[0], want[1])
		}
	}
}
