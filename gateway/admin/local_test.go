package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookgate/hookgate/configs"
)

// openLocalAdmin serves an admin listener with token (maybe "") on a loopback
// test server; reloads counts the reloads that reached the handler.
func openLocalAdmin(t *testing.T, token string) (base *url.URL, reloads *atomic.Int32) {
	t.Helper()
	reloads = new(atomic.Int32)
	a, err := New(Options{
		Listen:   "127.0.0.1:0",
		Token:    token,
		Gatherer: prometheus.NewRegistry(),
		Current:  func() *configs.Config { return &configs.Config{} },
		Reload: func(context.Context) error {
			reloads.Add(1)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	base, err = url.Parse(httptestServer(t, a))
	if err != nil {
		t.Fatal(err)
	}
	return base, reloads
}

// call sends method path to base with the Host and headers given ("" Host:
// the address itself).
func call(t *testing.T, base *url.URL, method, path, host string, header ...string) (int, string) {
	t.Helper()
	req := newRequest(t, method, base.String()+path, "", header...)
	if host != "" {
		req.Host = host
	}
	r := send(t, req)
	return r.Status, r.Body
}

// SPEC §11: without a token, only loopback Host names are answered, on
// every path, so that DNS rebinding reaches nothing.
func TestOpenAdminAnswersOnlyLoopbackHosts(t *testing.T) {
	base, _ := openLocalAdmin(t, "")
	port := base.Port()
	tests := []struct {
		name, path, host string
		want             int
	}{
		{"a rebound name is refused on the API", "/api/v1/webhooks", "attacker.example", http.StatusForbidden},
		{"a rebound name with the port is refused", "/api/v1/webhooks", "attacker.example:" + port, http.StatusForbidden},
		{"a rebound name is refused on the metrics", "/metrics", "attacker.example", http.StatusForbidden},
		{"a rebound name is refused on the page", "/", "attacker.example", http.StatusForbidden},
		{"a rebound name is refused on the page script", "/page.js", "attacker.example", http.StatusForbidden},
		{"a rebound name is refused on an unknown path", "/nope", "attacker.example", http.StatusForbidden},
		{"a name ending in localhost elsewhere is refused", "/api/v1/webhooks", "localhost.attacker.example", http.StatusForbidden},
		{"a name starting with the address is refused", "/api/v1/webhooks", "127.0.0.1.nip.io", http.StatusForbidden},
		{"another loopback address is not one of the three", "/api/v1/webhooks", "127.0.0.2:" + port, http.StatusForbidden},
		{"127.0.0.1 with its port is answered", "/api/v1/webhooks", "127.0.0.1:" + port, http.StatusOK},
		{"localhost with any port is answered", "/api/v1/webhooks", "localhost:9999", http.StatusOK},
		{"localhost without port is answered", "/metrics", "localhost", http.StatusOK},
		{"LOCALHOST in capitals is answered", "/api/v1/webhooks", "LOCALHOST:" + port, http.StatusOK},
		{"[::1] is answered", "/", "[::1]:" + port, http.StatusOK},
		{"[::1] without port is answered", "/api/v1/webhooks", "[::1]", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, base, http.MethodGet, tt.path, tt.host)
			if status != tt.want {
				t.Fatalf("GET %s with Host %q: %d %s; want %d", tt.path, tt.host, status, body, tt.want)
			}
			if tt.want == http.StatusForbidden {
				var e struct{ Error string }
				if json.Unmarshal([]byte(body), &e) != nil || !strings.Contains(e.Error, "set admin.token") || !strings.Contains(e.Error, "localhost, 127.0.0.1 or [::1]") {
					t.Fatalf("403 body %s: want {\"error\": …} saying which hosts are answered and to set admin.token", body)
				}
			}
		})
	}
}

// SPEC §11: without a token, a change whose Origin is another site is
// refused, so that no page can trigger a reload or a replay.
func TestOpenAdminRefusesCrossOriginChanges(t *testing.T) {
	base, reloads := openLocalAdmin(t, "")
	self := "http://" + base.Host // http://127.0.0.1:PORT
	tests := []struct {
		name, host, origin string
		want               int
	}{
		{"another site is refused", "", "http://attacker.example", http.StatusForbidden},
		{"a rebound origin naming the port is refused", "", "http://attacker.example:" + base.Port(), http.StatusForbidden},
		{"null (a sandboxed frame) is refused", "", "null", http.StatusForbidden},
		{"https on the same host and port is another origin", "", "https://" + base.Host, http.StatusForbidden},
		{"another port is another origin", "", "http://127.0.0.1:1", http.StatusForbidden},
		{"localhost is another origin than 127.0.0.1", "", "http://localhost:" + base.Port(), http.StatusForbidden},
		{"garbage is refused", "", "not a url", http.StatusForbidden},
		{"its own page is accepted", "", self, http.StatusOK},
		{"its own origin with a trailing slash is accepted", "", self + "/", http.StatusOK},
		{"its own page on localhost is accepted", "localhost:" + base.Port(), "http://localhost:" + base.Port(), http.StatusOK},
		{"its own page in capitals is accepted", "LOCALHOST:" + base.Port(), "HTTP://localhost:" + base.Port(), http.StatusOK},
		{"a client without Origin (curl) is accepted", "", "", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := reloads.Load()
			var header []string
			if tt.origin != "" {
				header = append(header, "Origin: "+tt.origin)
			}
			status, body := call(t, base, http.MethodPost, "/api/v1/reload", tt.host, header...)
			if status != tt.want {
				t.Fatalf("POST /api/v1/reload with Origin %q: %d %s; want %d", tt.origin, status, body, tt.want)
			}
			reached := reloads.Load() - before
			switch {
			case tt.want == http.StatusForbidden && reached != 0:
				t.Fatal("a refused request reached the reload")
			case tt.want == http.StatusForbidden && !strings.Contains(body, "set admin.token"):
				t.Fatalf("403 body %s: want it to say why and to set admin.token", body)
			case tt.want == http.StatusOK && reached != 1:
				t.Fatalf("reloads %d, want 1", reached)
			}
		})
	}
	// Reads carry no change: a GET with a foreign Origin on a loopback Host
	// is answered (the browser's same-origin policy keeps its body from the page).
	if status, body := call(t, base, http.MethodGet, "/api/v1/webhooks", "", "Origin: http://attacker.example"); status != http.StatusOK {
		t.Fatalf("GET with a foreign Origin: %d %s; want 200", status, body)
	}
	// The replay endpoints are guarded the same way.
	if status, _ := call(t, base, http.MethodPost, "/api/v1/requests/x/replay", "", "Origin: http://attacker.example"); status != http.StatusForbidden {
		t.Fatalf("POST replay with a foreign Origin: %d; want 403", status)
	}
}

// With a token the token decides: a page cannot send it, and other hosts
// (a reverse proxy's name) keep working.
func TestAdminWithTokenIgnoresHostAndOrigin(t *testing.T) {
	base, reloads := openLocalAdmin(t, testToken)
	status, body := call(t, base, http.MethodPost, "/api/v1/reload", "admin.example.com",
		"Origin: https://admin.example.com", "Authorization: Bearer "+testToken)
	if status != http.StatusOK || reloads.Load() != 1 {
		t.Fatalf("POST /api/v1/reload through a proxy name with the token: %d %s, %d reloads; want 200 and 1", status, body, reloads.Load())
	}
	if status, _ := call(t, base, http.MethodGet, "/api/v1/webhooks", "attacker.example"); status != http.StatusUnauthorized {
		t.Fatalf("GET without the token: %d; want 401", status)
	}
}
