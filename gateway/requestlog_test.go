package gateway

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
	"github.com/hookgate/hookgate/test/natstest"
)

// logServer is a gateway on a real JetStream with the request log on.
func logServer(t *testing.T, wh configs.Webhook, extra func(*configs.Config)) (*Server, jetstream.JetStream) {
	t.Helper()
	bs := inProcessBus(t)
	wh.MaxBody = 4 << 20 // configs.Load's default is not applied here
	cfg := &configs.Config{
		Server:   configs.Server{MaxBody: 4 << 20},
		NATS:     configs.NATS{PublishTimeout: 5 * time.Second},
		Admin:    configs.Admin{Token: "admin-token-value"},
		Webhooks: []configs.Webhook{wh},
		Incoming: []configs.Incoming{{Name: "items", Subject: "tasks.items", Type: "t", Parser: "json", PatternToItems: "items", MaxItems: 100000}},
	}
	if extra != nil {
		extra(cfg)
	}
	rt, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := New(rt, bs, zap.NewNop())
	lw := bus.NewLogWriter(bs.JetStream(), 16, zap.NewNop())
	s.SetRequestLog(lw)
	t.Cleanup(func() { _ = lw.Close(context.Background()) })
	return s, bs.JetStream()
}

// loggedEntries reads want entries of log.requests.<id>.
func loggedEntries(t *testing.T, js jetstream.JetStream, id string, want int) []bus.RequestLogEntry {
	t.Helper()
	return natstest.ReadJSON[bus.RequestLogEntry](t, js, bus.LogStream, bus.RequestLogSubject(id), want)
}

func serve(s *Server, method, path string, body []byte, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	req.Header = header
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}

func TestRequestLogMasksSecretsAndKeepsBodyStatusAndTasks(t *testing.T) {
	t.Parallel()
	wh := configs.Webhook{Identifier: "gh", Incoming: "items", Logging: true, PreProcessors: []configs.PreProcessor{
		{HMAC: &configs.HMAC{Preset: "github", Secret: "gh-hmac-secret"}},
		{HeaderSecret: &configs.HeaderSecret{Header: "X-Alumio-Auth", Secret: "alumio-secret"}},
	}}
	s, js := logServer(t, wh, func(cfg *configs.Config) {
		cfg.AuthProfiles = []configs.AuthProfile{{Name: "p", ClientSecret: "oauth-client-secret"}}
		// Secrets of every part count, as configs.Secrets lists them.
		cfg.NATS.Embedded.Auth.Token = "embedded-auth-token"
		cfg.Outgoing = []configs.Outgoing{{Name: "o", Headers: []configs.KeyValue{{Key: "X-Api-Key", Value: "outgoing-api-key"}}}}
	})
	body := []byte(`{"items":[{"a":1},{"a":2}]}`)
	h := http.Header{
		"Content-Type":        {"application/json"},
		"X-Hub-Signature-256": {"sha256=" + hmacHex("gh-hmac-secret", body)},
		"X-Alumio-Auth":       {"alumio-secret"},
		"Authorization":       {"Bearer abc"},
		"Cookie":              {"a=b"},
		"X-Echo":              {"oauth-client-secret", "plain"},
		"X-Embedded":          {"prefix admin-token-value suffix"},
		"X-Nats":              {"embedded-auth-token"},
		"X-Forwarded-Key":     {"outgoing-api-key"},
	}
	if rec := serve(s, http.MethodPost, "/webhooks/gh", body, h); rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	h["X-Alumio-Auth"] = []string{"wrong"}
	if rec := serve(s, http.MethodPost, "/webhooks/gh", body, h); rec.Code != 401 {
		t.Fatalf("wrong secret: status %d, want 401", rec.Code)
	}
	es := loggedEntries(t, js, "gh", 2)
	raw, _ := json.Marshal(es)
	for _, secret := range []string{"gh-hmac-secret", "alumio-secret", "oauth-client-secret", "admin-token-value", "embedded-auth-token", "outgoing-api-key", "Bearer abc", "a=b", hmacHex("gh-hmac-secret", body)} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("%q shows in the request log: %s", secret, raw)
		}
	}
	ok, refused := es[0], es[1]
	tests := []struct {
		name string
		got  []string
		want []string
	}{
		{"preset signature header", ok.Headers["X-Hub-Signature-256"], []string{Masked}},
		{"header_secret header", ok.Headers["X-Alumio-Auth"], []string{Masked}},
		{"Authorization", ok.Headers["Authorization"], []string{Masked}},
		{"Cookie", ok.Headers["Cookie"], []string{Masked}},
		{"a value equal to a secret, other values kept", ok.Headers["X-Echo"], []string{Masked, "plain"}},
		{"a value holding a secret", ok.Headers["X-Embedded"], []string{Masked}},
		{"other headers as sent", ok.Headers["Content-Type"], []string{"application/json"}},
		{"the refused request's masked header", refused.Headers["X-Alumio-Auth"], []string{Masked}},
	}
	for _, tc := range tests {
		if strings.Join(tc.got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	if ok.Status != 200 || ok.Tasks != 2 || ok.Body != string(body) || ok.BodyTruncated || ok.Error != "" ||
		ok.Method != "POST" || ok.Path != "/webhooks/gh" || ok.Webhook != "gh" || ok.RequestID == "" || ok.DurationMS <= 0 {
		t.Errorf("accepted entry = %+v", ok)
	}
	// header_secret refuses before the body is read (SPEC §11): the entry
	// has no body, marked truncated as every unread one.
	if refused.Status != 401 || refused.Tasks != 0 || refused.Error == "" || refused.Body != "" || !refused.BodyTruncated {
		t.Errorf("refused entry = %+v, want 401 with its error and no body (unread)", refused)
	}
}

func TestRequestLogBodyIsCutAt64KiBInMemoryAndSpooled(t *testing.T) {
	t.Parallel()
	s, js := logServer(t, configs.Webhook{Identifier: "big", Incoming: "items", Logging: true}, nil)
	tests := []struct {
		name string
		size int
		cut  bool
	}{
		{"exactly 64KiB is complete", MaxLoggedBody, false},
		{"in memory", 200 << 10, true},
		{"spooled to disk", memoryLimit + 100<<10, true},
	}
	for _, tc := range tests {
		body := bigJSON(tc.size)
		if rec := serve(s, http.MethodPost, "/webhooks/big", body, http.Header{"Content-Type": {"application/json"}}); rec.Code != 200 {
			t.Fatalf("%s: status %d: %s", tc.name, rec.Code, rec.Body)
		}
	}
	es := loggedEntries(t, js, "big", len(tests))
	for i, tc := range tests {
		want := string(bigJSON(tc.size)[:MaxLoggedBody])
		if es[i].Body != want || es[i].BodyTruncated != tc.cut || es[i].Status != 200 {
			t.Errorf("%s: body %d bytes (prefix ok: %v), truncated %v, status %d; want the first 64KiB, truncated %v",
				tc.name, len(es[i].Body), es[i].Body == want, es[i].BodyTruncated, es[i].Status, tc.cut)
		}
	}
}

func TestRequestLogIsOffWithoutLoggingAndReplaySkipsValidators(t *testing.T) {
	t.Parallel()
	wh := configs.Webhook{Identifier: "quiet", Incoming: "items", PreProcessors: []configs.PreProcessor{
		{HeaderSecret: &configs.HeaderSecret{Header: "X-Auth", Secret: "s3cret"}},
	}}
	s, js := logServer(t, wh, nil)
	h := http.Header{"Content-Type": {"application/json"}, "X-Auth": {"s3cret"}}
	first := serve(s, http.MethodPost, "/webhooks/quiet", []byte(`{"items":[1,2]}`), h)
	if first.Code != 200 {
		t.Fatalf("status %d", first.Code)
	}
	// Replayed twice with the masked header: validators are skipped and
	// the dedup key is the new request id, so both store their tasks.
	e := &bus.RequestLogEntry{Webhook: "quiet", Method: "POST", Body: `{"items":[1,2]}`, RemoteAddr: "192.0.2.1:1234",
		Headers: map[string][]string{"Content-Type": {"application/json"}, "X-Auth": {Masked}}}
	for i := range 2 {
		res := s.Replay(context.Background(), e)
		if res.Status != 200 || !strings.Contains(string(res.Body), `"tasks":2`) || res.RequestID == "" ||
			strings.Contains(string(res.Body), "duplicate") {
			t.Fatalf("replay %d: %d %s, want 200 with 2 new tasks", i, res.Status, res.Body)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, bus.LogStream)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetLastMsgForSubject(ctx, "log.>"); err == nil {
		t.Errorf("a webhook without logging: true left a log entry")
	}
	if rec := serve(s, http.MethodPost, "/webhooks/quiet", []byte(`{"items":[1]}`), http.Header{"Content-Type": {"application/json"}, "X-Auth": {Masked}}); rec.Code != 401 {
		t.Errorf("an outside request with the mask as its secret: %d, want 401", rec.Code)
	}
}

// bigJSON is {"items":[...]} of exactly size bytes, items of about 1KiB.
func bigJSON(size int) []byte {
	b := []byte(`{"items":[`)
	item := `"` + strings.Repeat("a", 1000) + `"`
	for len(b)+len(item)+4 < size {
		if b[len(b)-1] != '[' {
			b = append(b, ',')
		}
		b = append(b, item...)
	}
	b = append(b, bytes.Repeat([]byte(" "), size-len(b)-2)...)
	return append(b, "]}"...)
}

func hmacHex(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// BenchmarkIngestJSON1KiBLogged is BenchmarkIngestJSON1KiB's hookgate case
// with `logging: true`: the request path's cost of the request log (copy,
// mask, encode, queue), the publishing being on the log writer's goroutine.
func BenchmarkIngestJSON1KiBLogged(b *testing.B) {
	body := json1KiB()
	bs := inProcessBus(b)
	s := benchServer(b, bs,
		configs.Webhook{Name: "Orders", Identifier: "orders", Incoming: "orders", Methods: []string{"POST"}, MaxBody: 10 << 20, Logging: true},
		configs.Incoming{Name: "orders", Parser: "json", ReadMethod: "full", OnEmpty: "reject", MaxItems: 100000, Subject: "tasks.orders", Type: "hookgate.orders"})
	lw := bus.NewLogWriter(bs.JetStream(), 0, zap.NewNop())
	s.SetRequestLog(lw)
	c := newIngestClient(b, s.Handler(), "/webhooks/orders", "application/json", body)
	measure(b, func() { c.post(b) })
	b.StopTimer()
	_ = lw.Close(context.Background())
	b.ReportMetric(float64(lw.Dropped()), "dropped")
}
