package admin

import (
	"net/http"
	"strings"
	"testing"
)

func TestMetricsCountRequestsByStatusAndValidationFailuresByValidator(t *testing.T) {
	s := startStack(t, webhooksConfig)
	for _, tc := range []struct {
		name       string
		method     string
		identifier string
		header     []string
		status     int
	}{
		{"a valid request", "POST", "erp-orders", []string{"X-Auth: hdr-secret-2"}, 200},
		{"a wrong header secret", "POST", "erp-orders", []string{"X-Auth: nope"}, 401},
		{"a missing signature", "POST", "gh", nil, 401},
		{"a wrong method", "GET", "erp-orders", nil, 405},
		{"an unknown webhook", "POST", "random-scan", nil, 404},
		{"a disabled webhook", "POST", "old", nil, 404},
		{"a respond post-processor's status", "POST", "accepted", nil, 202},
	} {
		r := do(t, tc.method, s.gateway.URL+"/webhooks/"+tc.identifier, `{"id":1}`,
			append([]string{"Content-Type: application/json"}, tc.header...)...)
		if r.Status != tc.status {
			t.Fatalf("%s: status %d, want %d: %s", tc.name, r.Status, tc.status, r.Body)
		}
	}

	exp := s.metrics()
	wantSamples(t, exp, []sample{
		{`hookgate_requests_total{status="200",webhook="erp-orders"}`, "1"},
		{`hookgate_requests_total{status="401",webhook="erp-orders"}`, "1"},
		{`hookgate_requests_total{status="405",webhook="erp-orders"}`, "1"},
		{`hookgate_requests_total{status="401",webhook="gh"}`, "1"},
		{`hookgate_requests_total{status="202",webhook="accepted"}`, "1"},
		{`hookgate_requests_total{status="200",webhook="accepted"}`, "0"},
		// Unknown identifiers share one series, so a scan cannot grow them.
		{`hookgate_requests_total{status="404",webhook="(unknown)"}`, "2"},
		{`hookgate_request_duration_seconds_count{webhook="erp-orders"}`, "3"},
		{`hookgate_validation_failures_total{validator="header_secret",webhook="erp-orders"}`, "1"},
		{`hookgate_validation_failures_total{validator="ip_allowlist",webhook="erp-orders"}`, "0"},
		{`hookgate_validation_failures_total{validator="hmac",webhook="gh"}`, "1"},
		// One item to each of the webhook's two incoming configurations.
		{`hookgate_tasks_published_total{incoming="orders",webhook="erp-orders"}`, "1"},
		{`hookgate_tasks_published_total{incoming="audit",webhook="erp-orders"}`, "1"},
		{`hookgate_tasks_published_total{incoming="orders",webhook="gh"}`, "0"},
	})
	for _, line := range strings.Split(exp, "\n") {
		if strings.Contains(line, "random-scan") {
			t.Errorf("an unknown identifier became a label: %s", line)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", grepHookgate(exp))
	}
}

func TestReloadSwapsAValidConfigAndRefusesAnInvalidOne(t *testing.T) {
	s := startStack(t, webhooksConfig)
	s.rewrite(strings.Replace(webhooksConfig, "\nincoming:\n", "\n  - {name: Added later, incoming: orders}\nincoming:\n", 1))
	r := s.api("POST", "/api/v1/reload")
	if r.Status != http.StatusOK || strings.TrimSpace(r.Body) != `{"reloaded":true}` {
		t.Fatalf("reload: %d %s", r.Status, r.Body)
	}
	if r := s.post("added-later", `{"id":1}`); r.Status != http.StatusOK {
		t.Fatalf("the added webhook after reload: %d %s", r.Status, r.Body)
	}
	if r := s.api("GET", "/api/v1/webhooks"); !strings.Contains(r.Body, `"identifier":"added-later"`) {
		t.Errorf("/api/v1/webhooks after reload lacks the added webhook: %s", r.Body)
	}

	s.rewrite(`
webhooks:
  - {name: Broken, incoming: nowhere}
`)
	r = s.api("POST", "/api/v1/reload")
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("invalid reload: %d %s, want 422", r.Status, r.Body)
	}
	var body struct {
		Error    string
		Problems []string
	}
	r.json(t, &body)
	if body.Error != "config reload refused; the previous config keeps serving" {
		t.Errorf("error %q", body.Error)
	}
	if len(body.Problems) == 0 || !strings.Contains(strings.Join(body.Problems, "\n"), `"nowhere"`) {
		t.Errorf("the problems do not name the undefined incoming: %q", body.Problems)
	}
	if r := s.post("added-later", `{"id":2}`); r.Status != http.StatusOK {
		t.Errorf("the old config stopped serving after a refused reload: %d %s", r.Status, r.Body)
	}
	if r := s.post("broken", `{"id":2}`); r.Status != http.StatusNotFound {
		t.Errorf("the refused config's webhook answers %d, want 404", r.Status)
	}
}

func grepHookgate(exp string) string {
	var out []string
	for _, line := range strings.Split(exp, "\n") {
		if strings.HasPrefix(line, "hookgate_") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

func TestReloadDropsTheSeriesOfWhatItRemoved(t *testing.T) {
	s := startStack(t, webhooksConfig)
	if r := s.post("erp-orders", `{"id":1}`, "X-Auth: hdr-secret-1"); r.Status != http.StatusOK {
		t.Fatalf("erp-orders: %d %s", r.Status, r.Body)
	}
	if r := s.post("gh", `{"id":1}`); r.Status != http.StatusUnauthorized {
		t.Fatalf("gh unsigned: %d %s", r.Status, r.Body)
	}
	// gh is gone; erp-orders keeps orders and header_secret only.
	s.rewrite(`
admin: {listen: "127.0.0.1:0", token: t0ken-for-tests}
webhooks:
  - name: ERP Orders
    incoming: orders
    pre_processors:
      - header_secret: {header: X-Auth, secrets: [hdr-secret-1]}
incoming:
  - {name: orders, parser: json}
`)
	if r := s.api("POST", "/api/v1/reload"); r.Status != http.StatusOK {
		t.Fatalf("reload: %d %s", r.Status, r.Body)
	}
	exp := s.metrics()
	for _, gone := range []string{`webhook="gh"`, `incoming="audit"`, `validator="ip_allowlist"`} {
		for _, line := range strings.Split(exp, "\n") {
			if strings.HasPrefix(line, "hookgate_") && strings.Contains(line, gone) {
				t.Errorf("after the reload /metrics still has %s", line)
			}
		}
	}
	wantSamples(t, exp, []sample{
		{`hookgate_requests_total{status="200",webhook="erp-orders"}`, "1"},
		{`hookgate_tasks_published_total{incoming="orders",webhook="erp-orders"}`, "1"},
		{`hookgate_validation_failures_total{validator="header_secret",webhook="erp-orders"}`, "0"},
	})
	if t.Failed() {
		t.Logf("/metrics:\n%s", grepHookgate(exp))
	}
}
