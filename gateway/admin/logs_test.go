package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/bus"
)

// logStack is a gateway with its request log and the admin server on one
// real JetStream, the way `hookgate serve` wires them.
type logStack struct {
	js      jetstream.JetStream
	gateway http.Handler
	admin   http.Handler
}

const logStackConfig = `
admin: {listen: "127.0.0.1:0", token: ` + testToken + `}
incoming: [{name: items, parser: json, pattern_to_items: items}]
webhooks:
  - name: Logged
    incoming: items
    logging: true
    pre_processors:
      - header_secret: {header: X-Auth, secret: very-secret-value}
`

func startLogStack(t *testing.T) *logStack {
	t.Helper()
	_, _, cfg, b, log := openOnNATS(t, logStackConfig)
	rt, err := gateway.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := gateway.New(rt, b, log)
	lw := bus.NewLogWriter(b.JetStream(), 0, log)
	srv.SetRequestLog(lw)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = lw.Close(ctx) // before the bus closes: cleanups run last-first
	})
	a, err := New(Options{
		Listen:    cfg.Admin.Listen,
		Token:     cfg.Admin.Token,
		Gatherer:  prometheus.NewRegistry(),
		Current:   func() *configs.Config { return srv.Runtime().Config },
		JetStream: b.JetStream(),
		Stream:    cfg.NATS.Stream.Name,
		Replay:    gatewayReplay(srv),
		Log:       log,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &logStack{js: b.JetStream(), gateway: srv.Handler(), admin: a.Handler()}
}

func (s *logStack) call(t *testing.T, method, target string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	rec := httptest.NewRecorder()
	s.admin.ServeHTTP(rec, req)
	if strings.Contains(rec.Body.String(), "very-secret-value") || strings.Contains(rec.Body.String(), testToken) {
		t.Errorf("%s %s shows a secret: %s", method, target, rec.Body)
	}
	return rec.Code, rec.Body.String()
}

func (s *logStack) publish(t *testing.T, subject string, v any) {
	t.Helper()
	data, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.js.Publish(ctx, subject, data); err != nil {
		t.Fatal(err)
	}
}

// post sends a request to the logged webhook and returns its request id.
func (s *logStack) post(t *testing.T, body, secret string, want int) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/logged", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Auth", secret)
	rec := httptest.NewRecorder()
	s.gateway.ServeHTTP(rec, req)
	if rec.Code != want {
		t.Fatalf("post: %d %s, want %d", rec.Code, rec.Body, want)
	}
	return rec.Header().Get("X-Request-Id")
}

// waitLogged waits until n entries of the webhook are in the log.
func (s *logStack) waitLogged(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, raw := s.call(t, "GET", fmt.Sprintf("/api/v1/webhooks/logged/requests?limit=%d", n))
		var out struct{ Requests []json.RawMessage }
		if json.Unmarshal([]byte(raw), &out) == nil && len(out.Requests) >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d entries not logged within 10s: %s", n, raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Entries of other subjects in between make the backward windows grow.
func TestRequestsAreNewestFirstAcrossALongInterleavedLog(t *testing.T) {
	t.Parallel()
	s := startLogStack(t)
	for i := range 300 {
		s.publish(t, "log.requests.w", bus.RequestLogEntry{RequestID: fmt.Sprintf("r%04d", i), Webhook: "w"})
		for range 9 {
			s.publish(t, "log.requests.other", bus.RequestLogEntry{RequestID: "other", Webhook: "other"})
		}
	}
	tests := []struct {
		name  string
		query string
		want  int
	}{
		{"default limit", "", 50},
		{"a few", "?limit=3", 3},
		{"more than the first window", "?limit=250", 250},
		{"more than there are", "?limit=1000", 300},
	}
	for _, tc := range tests {
		status, raw := s.call(t, "GET", "/api/v1/webhooks/w/requests"+tc.query)
		var out struct{ Requests []bus.RequestLogEntry }
		if err := json.Unmarshal([]byte(raw), &out); err != nil || status != 200 {
			t.Fatalf("%s: %d %s", tc.name, status, raw)
		}
		if len(out.Requests) != tc.want {
			t.Errorf("%s: %d entries, want %d", tc.name, len(out.Requests), tc.want)
			continue
		}
		for i, e := range out.Requests {
			if want := fmt.Sprintf("r%04d", 299-i); e.RequestID != want {
				t.Errorf("%s: entry %d is %s, want %s (newest first)", tc.name, i, e.RequestID, want)
				break
			}
		}
	}
	for _, q := range []string{"?limit=0", "?limit=1001", "?limit=x"} {
		if status, _ := s.call(t, "GET", "/api/v1/webhooks/w/requests"+q); status != 400 {
			t.Errorf("limit %s: %d, want 400", q, status)
		}
	}
	if status, raw := s.call(t, "GET", "/api/v1/webhooks/nothing/requests"); status != 200 || !strings.Contains(raw, `"requests":[]`) {
		t.Errorf("a webhook without entries: %d %s, want an empty list", status, raw)
	}
}

func TestDeliveriesFilterByRouteAndStatus(t *testing.T) {
	t.Parallel()
	s := startLogStack(t)
	for i, e := range []bus.AttemptLogEntry{
		{TaskID: "t0", Route: "a", Outgoing: "x", Status: 200},
		{TaskID: "t1", Route: "a", Outgoing: "y", Status: 503, Error: "unexpected status 503"},
		{TaskID: "t2", Route: "b", Outgoing: "x", Status: 0, Error: "no answer within timeout 10s"},
		{TaskID: "t3", Route: "a", Outgoing: "x", Status: 202},
	} {
		e.Attempt = i + 1
		s.publish(t, bus.AttemptLogSubject(e.Route, e.Outgoing), e)
	}
	tests := []struct {
		query string
		want  string // task ids, newest first
	}{
		{"", "t3 t2 t1 t0"},
		{"?route=a", "t3 t1 t0"},
		{"?status=delivered", "t3 t0"},
		{"?status=failed", "t2 t1"},
		{"?route=a&status=failed", "t1"},
		{"?route=b&status=delivered", ""},
		{"?route=c", ""},
		{"?limit=2", "t3 t2"},
	}
	for _, tc := range tests {
		status, raw := s.call(t, "GET", "/api/v1/deliveries"+tc.query)
		var out struct{ Deliveries []bus.AttemptLogEntry }
		if err := json.Unmarshal([]byte(raw), &out); err != nil || status != 200 {
			t.Fatalf("%s: %d %s", tc.query, status, raw)
		}
		var ids []string
		for _, e := range out.Deliveries {
			ids = append(ids, e.TaskID)
		}
		if got := strings.Join(ids, " "); got != tc.want {
			t.Errorf("deliveries%s = %q, want %q", tc.query, got, tc.want)
		}
	}
	if status, _ := s.call(t, "GET", "/api/v1/deliveries?status=ok"); status != 400 {
		t.Errorf("status=ok: %d, want 400", status)
	}
}

func TestReplay(t *testing.T) {
	t.Parallel()
	s := startLogStack(t)
	ok := s.post(t, `{"items":[1,2,3]}`, "very-secret-value", 200)
	big := s.post(t, `{"items":["`+strings.Repeat("a", gateway.MaxLoggedBody)+`"]}`, "very-secret-value", 200)
	refused := s.post(t, `{"items":[1]}`, "wrong", 401)
	s.waitLogged(t, 3)

	tests := []struct {
		name   string
		id     string
		status int
		has    string
	}{
		{"a logged request runs again", ok, 200, `"tasks":3`},
		{"a truncated body cannot", big, 409, "incomplete"},
		{"a request its validators refused cannot", refused, 409, "validators"},
		{"an id not in the log", "01a21382-0000-7000-8000-000000000000", 404, "not in the request log"},
		{"an id that is no UUIDv7", "abc", 404, "not in the request log"},
	}
	for _, tc := range tests {
		status, raw := s.call(t, "POST", "/api/v1/requests/"+tc.id+"/replay")
		if status != tc.status || !strings.Contains(raw, tc.has) {
			t.Errorf("%s: %d %s, want %d with %q", tc.name, status, raw, tc.status, tc.has)
		}
	}
	// The replay is a new request: logged under its own id.
	s.waitLogged(t, 4)
	if status, _ := s.call(t, "GET", "/api/v1/requests/"+ok+"/replay"); status != 405 {
		t.Errorf("GET replay: %d, want 405", status)
	}
	req := httptest.NewRequest("GET", "/api/v1/webhooks/logged/requests", nil)
	rec := httptest.NewRecorder()
	s.admin.ServeHTTP(rec, req)
	if rec.Code != 401 {
		t.Errorf("requests without the token: %d, want 401", rec.Code)
	}
}
