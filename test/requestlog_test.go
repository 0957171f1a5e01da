package test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// requestLogConfig is one logged webhook behind a header secret, routed to
// a receiver; the admin token and the secret must never show in the log
// or in the admin answers.
var requestLogConfig = withAdmin(baseConfig, "t0ken-log") + `
incoming:
  - {name: orders, parser: json, pattern_to_items: items}
webhooks:
  - name: Orders
    identifier: orders
    incoming: orders
    logging: true
    pre_processors:
      - header_secret: {header: X-Auth, secret: e2e-log-secret}
routes:
  - {name: to-erp, incoming: orders, outgoing: [erp]}
outgoing:
`

// loggedRequest is the part of a request log entry the test reads.
type loggedRequest struct {
	RequestID     string              `json:"request_id"`
	Webhook       string              `json:"webhook"`
	Method        string              `json:"method"`
	Path          string              `json:"path"`
	Headers       map[string][]string `json:"headers"`
	Body          string              `json:"body"`
	BodyTruncated bool                `json:"body_truncated"`
	Status        int                 `json:"status"`
	Error         string              `json:"error"`
	Tasks         int                 `json:"tasks"`
}

// loggedAttempt is the part of a delivery attempt entry the test reads.
type loggedAttempt struct {
	TaskID    string `json:"task_id"`
	RequestID string `json:"request_id"`
	Route     string `json:"route"`
	Outgoing  string `json:"outgoing"`
	Attempt   int    `json:"attempt"`
	Status    int    `json:"status"`
	Error     string `json:"error"`
	Response  string `json:"response"`
}

// SPEC §9: a logged webhook's requests (accepted and refused) and the
// router's delivery attempts land in HOOKGATE_LOG with secrets as "***";
// the admin API lists them and replays a request into new tasks.
func TestRequestLogDeliveryLogAndReplayThroughTheAdminAPI(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, func(_ int, _ delivery, w http.ResponseWriter) {
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"received":true}`))
	})
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": requestLogConfig +
		`  - {name: erp, url: "` + rcv.URL + `", allow_private_networks: true}` + "\n"}))
	admin := adminURL(t, hg)

	body := `{"items":[{"id":1},{"id":2}]}`
	ok := hg.post("orders", "application/json", []byte(body), "X-Auth: e2e-log-secret", "Cookie: session=abc", "X-Trace: keep-me")
	if ok.Status != http.StatusOK {
		t.Fatalf("post: status %d %s", ok.Status, ok.Raw)
	}
	okID := ok.Header.Get("X-Request-Id")
	refused := hg.post("orders", "application/json", []byte(`{"items":[]}`), "X-Auth: wrong")
	if refused.Status != http.StatusUnauthorized {
		t.Fatalf("post with a wrong secret: status %d, want 401", refused.Status)
	}
	refusedID := refused.Header.Get("X-Request-Id")
	rcv.next(t, 15*time.Second)
	rcv.next(t, 15*time.Second)

	// The log is written after the answer: poll until both are there.
	var reqs []loggedRequest
	raw := pollAdmin(t, admin+"/api/v1/webhooks/orders/requests?limit=10", func(raw string) bool {
		var out struct{ Requests []loggedRequest }
		if json.Unmarshal([]byte(raw), &out) != nil {
			return false
		}
		reqs = out.Requests
		return len(reqs) >= 2
	})
	if len(reqs) != 2 || reqs[0].RequestID != refusedID || reqs[1].RequestID != okID {
		t.Fatalf("requests = %s\nwant the 401 (%s) then the 200 (%s), newest first", raw, refusedID, okID)
	}
	got := reqs[1]
	if got.Status != 200 || got.Tasks != 2 || got.Body != body || got.BodyTruncated || got.Method != "POST" || got.Path != "/webhooks/orders" || got.Webhook != "orders" {
		t.Errorf("logged 200 = %+v, want status 200, 2 tasks, the body, POST /webhooks/orders", got)
	}
	for name, want := range map[string]string{"X-Auth": "***", "Cookie": "***", "X-Trace": "keep-me"} {
		if vs := got.Headers[name]; len(vs) != 1 || vs[0] != want {
			t.Errorf("logged header %s = %q, want [%q]", name, vs, want)
		}
	}
	if r := reqs[0]; r.Status != 401 || r.Error == "" || r.Tasks != 0 || r.Headers["X-Auth"][0] != "***" {
		t.Errorf("logged 401 = %+v, want status 401 with its error and X-Auth masked", r)
	}
	if strings.Contains(raw, "e2e-log-secret") || strings.Contains(raw, "t0ken-log") || strings.Contains(raw, "session=abc") {
		t.Errorf("a secret shows in the requests answer: %s", raw)
	}

	var atts []loggedAttempt
	raw = pollAdmin(t, admin+"/api/v1/deliveries?route=to-erp&status=delivered", func(raw string) bool {
		var out struct{ Deliveries []loggedAttempt }
		if json.Unmarshal([]byte(raw), &out) != nil {
			return false
		}
		atts = out.Deliveries
		return len(atts) >= 2
	})
	if len(atts) != 2 {
		t.Fatalf("deliveries = %s, want the 2 attempts", raw)
	}
	for _, a := range atts {
		if a.RequestID != okID || !strings.HasPrefix(a.TaskID, okID+"-orders-") || a.Route != "to-erp" || a.Outgoing != "erp" ||
			a.Attempt != 1 || a.Status != 202 || a.Error != "" || a.Response != `{"received":true}` {
			t.Errorf("attempt = %+v, want a first attempt of the request's task answered 202 with the receiver's body", a)
		}
	}
	if status, raw := adminCall(t, "GET", admin+"/api/v1/deliveries?status=failed", "t0ken-log"); status != 200 || !strings.Contains(raw, `"deliveries":[]`) {
		t.Errorf("failed deliveries: %d %s, want none", status, raw)
	}
	if status, _ := adminCall(t, "GET", admin+"/api/v1/deliveries?status=lost", "t0ken-log"); status != 400 {
		t.Errorf("status=lost: %d, want 400", status)
	}
	if status, _ := adminCall(t, "GET", admin+"/api/v1/webhooks/orders/requests", ""); status != 401 {
		t.Errorf("requests without the token: %d, want 401", status)
	}

	status, raw := adminCall(t, "POST", admin+"/api/v1/requests/"+okID+"/replay", "t0ken-log")
	var rep struct {
		ReplayOf  string `json:"replay_of"`
		RequestID string `json:"request_id"`
		Status    int    `json:"status"`
		Response  struct {
			Tasks int `json:"tasks"`
		} `json:"response"`
	}
	if err := json.Unmarshal([]byte(raw), &rep); err != nil || status != 200 || rep.ReplayOf != okID || rep.Status != 200 ||
		rep.Response.Tasks != 2 || rep.RequestID == "" || rep.RequestID == okID {
		t.Fatalf("replay: %d %s, want 200 with 2 tasks under a new request id", status, raw)
	}
	tasks := storedTasks(t, hg.NATSURL, "tasks.orders")
	replayed := 0
	for _, tk := range tasks {
		if tk.Header.Get("ce-requestid") == rep.RequestID {
			replayed++
		}
	}
	if len(tasks) != 4 || replayed != 2 {
		t.Errorf("%d tasks stored, %d of the replay; want 4 and 2", len(tasks), replayed)
	}
	if status, raw := adminCall(t, "POST", admin+"/api/v1/requests/"+refusedID+"/replay", "t0ken-log"); status != 409 {
		// A replay skips the validators: one they refused stays refused.
		t.Errorf("replay of the 401: %d %s, want 409", status, raw)
	}
	if status, _ := adminCall(t, "POST", admin+"/api/v1/requests/0190f1c2-0000-7000-8000-000000000000/replay", "t0ken-log"); status != 404 {
		t.Errorf("replay of an unknown id: %d, want 404", status)
	}
}

// pollAdmin GETs url with the test's token until done accepts the answer,
// for up to 15s, and returns the last answer.
func pollAdmin(t *testing.T, url string, done func(string) bool) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, raw := adminCall(t, "GET", url, "t0ken-log")
		if status == 200 && done(raw) {
			return raw
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %d %s", url, status, raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
