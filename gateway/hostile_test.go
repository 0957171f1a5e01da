package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/hookgate/hookgate/configs"
)

// hostileStack is a gateway on a real JetStream with its metrics on a
// registry of its own.
type hostileStack struct {
	s   *Server
	js  jetstream.JetStream
	reg *prometheus.Registry
	cfg *configs.Config
}

// hostileServer builds the stack for cfg; webhooks get max_body 4 MiB and
// incoming configurations the SPEC defaults that configs.Load would apply.
func hostileServer(t *testing.T, cfg *configs.Config) *hostileStack {
	t.Helper()
	bs := inProcessBus(t)
	cfg.Server.MaxBody = 4 << 20
	cfg.NATS.PublishTimeout = 5 * time.Second
	for i := range cfg.Webhooks {
		cfg.Webhooks[i].MaxBody = 4 << 20
	}
	for i := range cfg.Incoming {
		in := &cfg.Incoming[i]
		in.Subject, in.Type, in.MaxItems = "tasks."+in.Name, "t", 100000
	}
	rt, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	s := New(rt, bs, zap.NewNop())
	s.SetMetrics(m)
	return &hostileStack{s: s, js: bs.JetStream(), reg: reg, cfg: cfg}
}

// metric is the value of the series name{labels} (labels as name=value
// pairs), or -1 when the registry has no such series.
func (h *hostileStack) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	families, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, l := range m.GetLabel() {
					found = found || (l.GetName() == labels[i] && l.GetValue() == labels[i+1])
				}
				if !found {
					continue series
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	return -1
}

// reload swaps in a runtime built from the stack's config after edit.
func (h *hostileStack) reload(t *testing.T, edit func(*configs.Config)) {
	t.Helper()
	cfg := *h.cfg
	edit(&cfg)
	rt, err := Build(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.s.Swap(rt)
}

// held is a request whose body the test feeds: it is in flight from the
// first write that returns until release.
type held struct {
	w    *io.PipeWriter
	rec  *httptest.ResponseRecorder
	done chan struct{}
}

// hold starts a POST of a body of length bytes (-1: sent chunked) and
// writes its first part, so that the request is in its handler when hold
// returns.
func (h *hostileStack) hold(t *testing.T, path string, length int64, first []byte) *held {
	t.Helper()
	pr, pw := io.Pipe()
	req := httptest.NewRequest(http.MethodPost, path, pr)
	req.ContentLength = length
	req.Header.Set("Content-Type", "application/json")
	hr := &held{w: pw, rec: httptest.NewRecorder(), done: make(chan struct{})}
	go func() {
		defer close(hr.done)
		h.s.Handler().ServeHTTP(hr.rec, req)
	}()
	if _, err := pw.Write(first); err != nil {
		t.Fatalf("the held request did not read its body: %v", err)
	}
	return hr
}

// release sends the rest of the held body and waits for the answer.
func (hr *held) release(t *testing.T, rest []byte) *httptest.ResponseRecorder {
	t.Helper()
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		_, _ = hr.w.Write(rest)
		_ = hr.w.Close()
	}()
	select {
	case <-hr.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the held request got no answer within 10s")
	}
	// A handler that answered without reading all of rest leaves the
	// write blocked: closing the pipe ends it.
	_ = hr.w.Close()
	<-wrote
	return hr.rec
}

func post(s *Server, path string, body []byte, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}

// wantBusy checks the SPEC §11 answer past max_concurrent or spool_max.
func wantBusy(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	var body struct {
		Error     string `json:"error"`
		RequestID string `json:"request_id"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if rec.Code != http.StatusServiceUnavailable || body.Error != "busy" || body.RequestID == "" ||
		rec.Header().Get("Retry-After") != "1" || rec.Header().Get("Connection") != "close" {
		t.Fatalf("answer %d %s %v, want 503 {\"error\":\"busy\",\"request_id\":…} with Retry-After: 1 and Connection: close",
			rec.Code, rec.Body, rec.Header())
	}
}

func itemsConfig(server configs.Server) *configs.Config {
	return &configs.Config{
		Server:   server,
		Webhooks: []configs.Webhook{{Identifier: "items", Incoming: "items"}},
		Incoming: []configs.Incoming{{Name: "items", Parser: "json", PatternToItems: "items"}},
	}
}

func TestMaxConcurrentRefusesPastTheLimitAndSurvivesAReload(t *testing.T) {
	t.Parallel()
	h := hostileServer(t, itemsConfig(configs.Server{MaxConcurrent: 1}))
	first := h.hold(t, "/webhooks/items", -1, []byte(`{"items":[`))
	if got := h.metric(t, "hookgate_requests_in_flight"); got != 1 {
		t.Errorf("hookgate_requests_in_flight = %v with one request held, want 1", got)
	}
	wantBusy(t, post(h.s, "/webhooks/items", []byte(`{"items":[1]}`)))
	for _, probe := range []string{"/healthz", "/readyz"} {
		rec := httptest.NewRecorder()
		h.s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, probe, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("%s while busy: %d, want 200 (health checks do not count)", probe, rec.Code)
		}
	}

	// A reload raises the limit: the held request still counts, one more fits.
	h.reload(t, func(c *configs.Config) { c.Server.MaxConcurrent = 2 })
	if rec := post(h.s, "/webhooks/items", []byte(`{"items":[2]}`)); rec.Code != http.StatusOK {
		t.Fatalf("with max_concurrent 2 and one held: %d %s", rec.Code, rec.Body)
	}
	h.reload(t, func(c *configs.Config) { c.Server.MaxConcurrent = 1 })
	wantBusy(t, post(h.s, "/webhooks/items", []byte(`{"items":[3]}`)))

	if rec := first.release(t, []byte(`4]}`)); rec.Code != http.StatusOK {
		t.Fatalf("held request: %d %s", rec.Code, rec.Body)
	}
	if rec := post(h.s, "/webhooks/items", []byte(`{"items":[5]}`)); rec.Code != http.StatusOK {
		t.Fatalf("after the held request ended: %d %s", rec.Code, rec.Body)
	}
	if got := h.metric(t, "hookgate_requests_in_flight"); got != 0 {
		t.Errorf("hookgate_requests_in_flight = %v at rest, want 0", got)
	}
	if got := h.metric(t, "hookgate_requests_total", "webhook", "items", "status", "503"); got != 2 {
		t.Errorf("busy answers counted %v times, want 2", got)
	}
	// Only what was answered 200 is stored: 2, 4 and 5.
	if tasks := storedTasks(t, h.js, "tasks.items", 3); string(tasks[0].Data()) != "2" || string(tasks[2].Data()) != "5" {
		t.Errorf("stored %s … %s, want 2 … 5", tasks[0].Data(), tasks[2].Data())
	}
}

func TestSpoolMaxRefusesABodyThatWouldNotFit(t *testing.T) {
	t.Parallel()
	h := hostileServer(t, itemsConfig(configs.Server{SpoolMax: 2 << 20}))
	big := bigJSON(1536 << 10) // 1.5 MiB: spooled
	// Held with its Content-Length: the whole 1.5 MiB is reserved at once.
	first := h.hold(t, "/webhooks/items", int64(len(big)), big[:100])
	if got := h.metric(t, "hookgate_spool_bytes"); got != float64(len(big)) {
		t.Errorf("hookgate_spool_bytes = %v, want the held Content-Length %d", got, len(big))
	}
	second := bigJSON(1200 << 10)
	wantBusy(t, post(h.s, "/webhooks/items", second))
	// Without a Content-Length the body reserves as it is written: refused
	// once the first MiB is read and does not fit.
	chunked := h.hold(t, "/webhooks/items", -1, second[:100])
	if rec := chunked.release(t, second[100:]); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("a chunked spooled body past spool_max: %d %s", rec.Code, rec.Body)
	}
	// A body kept in memory needs no spool.
	if rec := post(h.s, "/webhooks/items", []byte(`{"items":[1]}`)); rec.Code != http.StatusOK {
		t.Fatalf("a small body while the spool is full: %d %s", rec.Code, rec.Body)
	}
	if rec := first.release(t, big[100:]); rec.Code != http.StatusOK {
		t.Fatalf("held spooled request: %d %s", rec.Code, rec.Body)
	}
	if got := h.load(); got != 0 {
		t.Fatalf("%d spooled bytes still counted after every request ended", got)
	}
	if rec := post(h.s, "/webhooks/items", second); rec.Code != http.StatusOK {
		t.Fatalf("a spooled body after the spool emptied: %d %s", rec.Code, rec.Body)
	}
	// A reload lowers spool_max below what the body needs.
	h.reload(t, func(c *configs.Config) { c.Server.SpoolMax = 1 << 20 })
	wantBusy(t, post(h.s, "/webhooks/items", second))
	if got := h.load(); got != 0 {
		t.Fatalf("%d spooled bytes counted at rest", got)
	}
}

func (h *hostileStack) load() int64 { return h.s.load.spool.used.Load() }

// untouchable is a body that must not be read.
type untouchable struct{ read chan struct{} }

func (u *untouchable) Read([]byte) (int, error) {
	select {
	case <-u.read:
	default:
		close(u.read)
	}
	return 0, errors.New("the body of a request refused by its headers was read")
}

func TestHeaderValidatorsRefuseBeforeTheBodyIsRead(t *testing.T) {
	t.Parallel()
	h := hostileServer(t, &configs.Config{
		Webhooks: []configs.Webhook{{Identifier: "gh", Incoming: "items", PreProcessors: []configs.PreProcessor{
			{HMAC: &configs.HMAC{Preset: "github", Secret: "gh-secret"}},
			{HeaderSecret: &configs.HeaderSecret{Header: "X-Auth", Secret: "s3cret"}},
			{IPAllowlist: &configs.IPAllowlist{CIDRs: []string{"192.0.2.0/24"}}},
		}}},
		Incoming: []configs.Incoming{{Name: "items", Parser: "json", PatternToItems: "items"}},
	})
	send := func(token, peer string, body io.Reader, length int64) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/gh", body)
		req.ContentLength = length
		req.RemoteAddr = peer
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Auth", token)
		req.Header.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
		rec := httptest.NewRecorder()
		h.s.Handler().ServeHTTP(rec, req)
		return rec
	}
	for _, tc := range []struct {
		name, token, peer string
		status            int
		msg, validator    string
	}{
		{"a wrong token", "wrong", "192.0.2.7:4000", 401, "Wrong authentication token provided", "header_secret"},
		{"a peer outside the allowlist", "s3cret", "198.51.100.7:4000", 403, "address not allowed", "ip_allowlist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := &untouchable{read: make(chan struct{})}
			rec := send(tc.token, tc.peer, u, 3_000_000)
			select {
			case <-u.read:
				t.Fatal("the body was read")
			default:
			}
			if rec.Code != tc.status || !strings.Contains(rec.Body.String(), tc.msg) || rec.Header().Get("Connection") != "close" {
				t.Fatalf("answer %d %s %v, want %d %q with Connection: close", rec.Code, rec.Body, rec.Header(), tc.status, tc.msg)
			}
		})
	}
	// The right token and peer: the body is read and the signature refused.
	rec := send("s3cret", "192.0.2.7:4000", strings.NewReader(`{"items":[1]}`), 13)
	if rec.Code != 401 || !strings.Contains(rec.Body.String(), "invalid signature") || rec.Header().Get("Connection") == "close" {
		t.Fatalf("a bad signature: %d %s %v, want 401 invalid signature, connection kept", rec.Code, rec.Body, rec.Header())
	}
	// Each refusal counts under the validator that made it, whatever ran first.
	for kind, want := range map[string]float64{"hmac": 1, "header_secret": 1, "ip_allowlist": 1} {
		if got := h.metric(t, "hookgate_validation_failures_total", "webhook", "gh", "validator", kind); got != want {
			t.Errorf("validation failures of %s = %v, want %v", kind, got, want)
		}
	}
	if n := storedCount(t, h.js, "tasks.items"); n != 0 {
		t.Errorf("%d tasks stored by refused requests", n)
	}
}

// storedCount is how many tasks subject holds.
func storedCount(t *testing.T, js jetstream.JetStream, subject string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, "HOOKGATE_TASKS")
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Subjects[subject]
}

func TestItemsPastMaxItemsBytesAre413(t *testing.T) {
	t.Parallel()
	h := hostileServer(t, &configs.Config{
		Webhooks: []configs.Webhook{
			{Identifier: "full", Incoming: "full"},
			{Identifier: "inc", Incoming: "inc"},
		},
		Incoming: []configs.Incoming{
			{Name: "full", Parser: "json", PatternToItems: "items", MaxItemsBytes: 10},
			{Name: "inc", Parser: "json", PatternToItems: "items", ReadMethod: "incremental", MaxItemsBytes: 10},
		},
	})
	body := []byte(`{"items":["abc","def","ghi"]}`) // 15 bytes of items
	rec := post(h.s, "/webhooks/full", body)
	if rec.Code != 413 || !strings.Contains(rec.Body.String(), `"error":"items exceed 10 bytes"`) || strings.Contains(rec.Body.String(), "published") {
		t.Fatalf("full: %d %s, want 413 items exceed 10 bytes without published", rec.Code, rec.Body)
	}
	rec = post(h.s, "/webhooks/inc", body)
	if rec.Code != 413 || !strings.Contains(rec.Body.String(), `"error":"items exceed 10 bytes"`) || !strings.Contains(rec.Body.String(), `"published":2`) {
		t.Fatalf("incremental: %d %s, want 413 items exceed 10 bytes with published 2", rec.Code, rec.Body)
	}
	if n := storedCount(t, h.js, "tasks.full"); n != 0 {
		t.Errorf("full mode stored %d tasks of a refused request", n)
	}
	if n := storedCount(t, h.js, "tasks.inc"); n != 2 {
		t.Errorf("incremental mode stored %d tasks, want the 2 it reported", n)
	}
}

// TestBudgetIsExactUnderConcurrency: goroutines race to take and give back
// units of a budget; the count never passes max, and comes back to zero.
func TestBudgetIsExactUnderConcurrency(t *testing.T) {
	var b budget
	const max = 5
	var wg sync.WaitGroup
	var over atomic.Int64
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				n := int64(1 + i%3)
				if !b.take(n, max) {
					continue
				}
				if b.used.Load() > max {
					over.Add(1)
				}
				b.give(n)
			}
		}()
	}
	wg.Wait()
	if over.Load() > 0 {
		t.Errorf("the count passed max %d times", over.Load())
	}
	if got := b.used.Load(); got != 0 {
		t.Errorf("count %d after everything was given back", got)
	}
}

// Forwarded headers are copied onto every task: past 8 KiB they are a 431,
// and below it they count toward max_items_bytes once per task, so that
// one large header cannot be stored once per item.
func TestForwardedHeadersAreBoundedAndCountedPerTask(t *testing.T) {
	t.Parallel()
	h := hostileServer(t, &configs.Config{
		Webhooks: []configs.Webhook{{Identifier: "fwd", Incoming: "fwd", ForwardHeaders: []string{"X-Big"}}},
		Incoming: []configs.Incoming{{Name: "fwd", Parser: "json", PatternToItems: "items", MaxItemsBytes: 40 << 10}},
	})
	body := []byte(`{"items":[1,2,3,4,5,6,7,8,9,10]}`) // 10 items of 1 or 2 bytes

	rec := post(h.s, "/webhooks/fwd", body, "X-Big", strings.Repeat("b", 9<<10))
	if rec.Code != http.StatusRequestHeaderFieldsTooLarge || !strings.Contains(rec.Body.String(), `"error":"forwarded headers exceed 8KiB`) {
		t.Fatalf("9 KiB forwarded: %d %s, want 431 forwarded headers exceed 8KiB", rec.Code, rec.Body)
	}
	// 10 tasks of 5 KiB each pass 40 KiB, though the items alone are 11 bytes.
	rec = post(h.s, "/webhooks/fwd", body, "X-Big", strings.Repeat("b", 5<<10))
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), `"error":"items exceed 40960 bytes"`) {
		t.Fatalf("10 items with 5 KiB forwarded: %d %s, want 413 items exceed 40960 bytes", rec.Code, rec.Body)
	}
	if n := storedCount(t, h.js, "tasks.fwd"); n != 0 {
		t.Fatalf("%d tasks stored by refused requests", n)
	}
	rec = post(h.s, "/webhooks/fwd", body, "X-Big", strings.Repeat("b", 3<<10))
	if rec.Code != http.StatusOK {
		t.Fatalf("10 items with 3 KiB forwarded: %d %s, want 200", rec.Code, rec.Body)
	}
	if n := storedCount(t, h.js, "tasks.fwd"); n != 10 {
		t.Errorf("%d tasks stored, want 10", n)
	}
}
