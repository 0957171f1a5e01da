package admin

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/bus"
	"github.com/hookgate/hookgate/router"
	"github.com/hookgate/hookgate/test/natstest"
)

const testToken = "t0ken-for-tests"

// stack is a gateway, a router and the admin server on one real JetStream,
// wired the way `hookgate serve` wires them.
type stack struct {
	t       *testing.T
	path    string // the config file; rewrite it and POST /api/v1/reload
	nats    string // the nats section every version of the file keeps
	gateway *httptest.Server
	admin   *httptest.Server
	srv     *gateway.Server
	js      jetstream.JetStream // what another hookgate process on the same NATS would write to
}

// openOnNATS writes yaml, with a NATS section pointing at a fresh embedded
// server, to a config file, loads it and opens the bus (closed at cleanup).
func openOnNATS(t *testing.T, yaml string) (path, natsSection string, cfg *configs.Config, b *bus.Bus, log *zap.Logger) {
	t.Helper()
	ns := natstest.Start(t)
	path = filepath.Join(t.TempDir(), "hookgate.yaml")
	natsSection = "nats: {url: \"" + ns.ClientURL() + "\", publish_timeout: 5s}\n"
	if err := os.WriteFile(path, []byte(natsSection+yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := configs.Load(path)
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	log = zaptest.NewLogger(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if b, err = bus.Open(ctx, cfg.NATS, log); err != nil {
		t.Fatalf("bus: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = b.Close(ctx)
	})
	return path, natsSection, cfg, b, log
}

// startStack loads header (server/admin/outgoing... sections) plus a NATS
// section pointing at a fresh embedded server.
func startStack(t *testing.T, yaml string) *stack {
	t.Helper()
	path, natsSection, cfg, b, log := openOnNATS(t, yaml)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	reg := prometheus.NewRegistry()
	gm, err := gateway.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	rm, err := router.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	rt, err := gateway.Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := gateway.New(rt, b, log)
	srv.SetMetrics(gm)
	circuits := router.NewCircuits()
	lw := bus.NewLogWriter(b.JetStream(), 0, log)
	srv.SetRequestLog(lw)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = lw.Close(ctx) // before the bus closes: cleanups run last-first
	})
	if len(cfg.Routes) > 0 {
		r, err := router.New(cfg, b.JetStream(), log, "test", router.WithMetrics(rm), router.WithCircuits(circuits))
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := r.Stop(ctx); err != nil {
				t.Errorf("router stop: %v", err)
			}
		})
	}
	a, err := New(Options{
		Listen:     cfg.Admin.Listen,
		Token:      cfg.Admin.Token,
		Gatherer:   reg,
		Current:    func() *configs.Config { return srv.Runtime().Config },
		JetStream:  b.JetStream(),
		Stream:     cfg.NATS.Stream.Name,
		Deliveries: routerCounts{rm},
		Circuits:   routerCircuits{circuits},
		Replay:     gatewayReplay(srv),
		Reload: func(context.Context) error {
			cfg, err := configs.Load(path)
			if err != nil {
				return err
			}
			rt, err := gateway.Build(cfg)
			if err != nil {
				return err
			}
			srv.Swap(rt)
			return nil
		},
		Log: log,
	})
	if err != nil {
		t.Fatalf("admin.New: %v", err)
	}
	s := &stack{t: t, path: path, nats: natsSection, srv: srv, js: b.JetStream(),
		gateway: httptest.NewServer(srv.Handler()),
		admin:   httptest.NewServer(a.Handler()),
	}
	t.Cleanup(s.gateway.Close)
	t.Cleanup(s.admin.Close)
	return s
}

// result is an HTTP answer, read.
type result struct {
	Status int
	Header http.Header
	Body   string
}

// apiCase is one bodiless request to the admin listener, its headers
// "Name: value", and the answer it must get: status and, when errMsg is
// set, the JSON error answer {"error": errMsg}.
type apiCase struct {
	name   string
	method string
	path   string
	header []string
	status int
	errMsg string
}

// check sends c to the listener at base and checks the answer.
func (c apiCase) check(t *testing.T, base string) result {
	t.Helper()
	r := do(t, c.method, base+c.path, "", c.header...)
	if r.Status != c.status {
		t.Fatalf("status %d, want %d: %s", r.Status, c.status, r.Body)
	}
	if c.errMsg == "" {
		return r
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var body struct{ Error string }
	r.json(t, &body)
	if body.Error != c.errMsg {
		t.Errorf("error %q, want %q", body.Error, c.errMsg)
	}
	return r
}

func (r result) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.Body), v); err != nil {
		t.Fatalf("body is not the expected JSON: %v\n%s", err, r.Body)
	}
}

// do sends one request with the headers given ("Name: value").
func do(t *testing.T, method, url, body string, header ...string) result {
	t.Helper()
	return send(t, newRequest(t, method, url, body, header...))
}

func newRequest(t *testing.T, method, url, body string, header ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range header {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	return req
}

// send sends req and reads the answer.
func send(t *testing.T, req *http.Request) result {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return result{Status: resp.StatusCode, Header: resp.Header, Body: string(raw)}
}

// api calls the admin API with the token.
func (s *stack) api(method, path string) result {
	s.t.Helper()
	return do(s.t, method, s.admin.URL+path, "", "Authorization: Bearer "+testToken)
}

// post sends a JSON body to a webhook.
func (s *stack) post(identifier, body string, header ...string) result {
	s.t.Helper()
	return do(s.t, http.MethodPost, s.gateway.URL+"/webhooks/"+identifier, body,
		append([]string{"Content-Type: application/json"}, header...)...)
}

// metrics scrapes /metrics (no token) and returns the sample lines.
func (s *stack) metrics() string {
	s.t.Helper()
	r := do(s.t, http.MethodGet, s.admin.URL+"/metrics", "")
	if r.Status != http.StatusOK {
		s.t.Fatalf("/metrics: %d %s", r.Status, r.Body)
	}
	return r.Body
}

// eventually retries ok for up to 10s.
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("%s: not within 10s", what)
}

// sample is one line of /metrics: series is name{labels}, the labels
// sorted by name as the text format writes them.
type sample struct{ series, value string }

// wantSamples checks that the exposition has every sample.
func wantSamples(t *testing.T, exposition string, samples []sample) {
	t.Helper()
	for _, s := range samples {
		if !hasSample(exposition, s.series, s.value) {
			t.Errorf("/metrics lacks %s %s", s.series, s.value)
		}
	}
}

// hasSample reports whether the exposition has a sample line that starts with
// name{labels} (labels sorted by name, as the text format writes them) and
// carries value.
func hasSample(exposition, series, value string) bool {
	for _, line := range strings.Split(exposition, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok && rest == value {
			return true
		}
	}
	return false
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// httptestServer serves a on a test server and returns its URL.
func httptestServer(t *testing.T, a *Server) string {
	t.Helper()
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

// rewrite replaces the config file (the nats section is kept).
func (s *stack) rewrite(yaml string) {
	s.t.Helper()
	if err := os.WriteFile(s.path, []byte(s.nats+yaml), 0o644); err != nil {
		s.t.Fatal(err)
	}
}
