package test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// openAdminConfig is adminConfig with the empty token the example config
// uses: the admin listener is open, on loopback.
var openAdminConfig = strings.Replace(adminConfig, `admin: {listen: "127.0.0.1:0", token: t0ken}`, `admin: {listen: "127.0.0.1:0", token: ""}`, 1)

// adminRequest sends one request to the admin listener with the Host and
// Origin given ("": the address itself, no Origin).
func adminRequest(t *testing.T, method, url, host, origin string) (int, string) {
	t.Helper()
	return adminSend(t, method, url, func(req *http.Request) {
		if host != "" {
			req.Host = host
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
	})
}

// SPEC §11: with an empty admin.token, a page in the operator's browser can
// neither read the admin listener through DNS rebinding nor trigger a
// reload; curl and the operator page keep working.
func TestOpenAdminRefusesRebindingAndCrossSiteRequests(t *testing.T) {
	t.Parallel()
	if !strings.Contains(openAdminConfig, `token: ""`) {
		t.Fatal("openAdminConfig did not replace the admin section")
	}
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": openAdminConfig}))
	admin := adminURL(t, hg) // http://127.0.0.1:PORT
	port := admin[strings.LastIndex(admin, ":")+1:]

	for _, path := range []string{"/api/v1/webhooks", "/api/v1/webhooks/orders/requests", "/metrics", "/"} {
		status, body := adminRequest(t, "GET", admin+path, "attacker.example:"+port, "")
		var e struct{ Error string }
		if status != http.StatusForbidden || json.Unmarshal([]byte(body), &e) != nil || !strings.Contains(e.Error, "set admin.token") {
			t.Errorf("GET %s with Host attacker.example: %d %s; want 403 {\"error\": …} saying to set admin.token", path, status, body)
		}
	}
	for _, host := range []string{"localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port} {
		if status, body := adminRequest(t, "GET", admin+"/api/v1/webhooks", host, ""); status != http.StatusOK {
			t.Errorf("GET /api/v1/webhooks with Host %s: %d %s; want 200", host, status, body)
		}
	}

	for _, origin := range []string{"http://attacker.example", "null"} {
		status, body := adminRequest(t, "POST", admin+"/api/v1/reload", "", origin)
		if status != http.StatusForbidden || !strings.Contains(body, "set admin.token") {
			t.Errorf("POST /api/v1/reload with Origin %s: %d %s; want 403", origin, status, body)
		}
	}
	_, metrics := adminCall(t, "GET", admin+"/metrics", "")
	if !sample(metrics, `hookgate_config_reloads_total{result="success"}`, "0") {
		t.Fatalf("a refused cross-site POST reloaded the config:\n%s", metrics)
	}

	// The operator page's own POST, and curl's (no Origin), still reload.
	for _, origin := range []string{admin, ""} {
		if status, body := adminRequest(t, "POST", admin+"/api/v1/reload", "", origin); status != http.StatusOK || strings.TrimSpace(body) != `{"reloaded":true}` {
			t.Errorf("POST /api/v1/reload with Origin %q: %d %s; want 200", origin, status, body)
		}
	}
	_, metrics = adminCall(t, "GET", admin+"/metrics", "")
	if !sample(metrics, `hookgate_config_reloads_total{result="success"}`, "2") {
		t.Errorf("want exactly the two accepted reloads counted:\n%s", metrics)
	}
}
