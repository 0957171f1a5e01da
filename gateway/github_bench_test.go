package gateway

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tidwall/gjson"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
)

// benchGitHubSecret is the secret of shared/bench/hookgate.yaml.
const benchGitHubSecret = "bench-secret"

// BenchmarkIngestGitHub1KiB is shared/bench/run.sh in one process: a
// GitHub-signed 1 KiB JSON POST to hookgate as `serve` builds it (the
// github HMAC preset, metrics on, a JSON logger at warn), beside the ideal
// gateway's handler (shared/bench/idealgw: HMAC, one gjson lookup, one
// synchronous JetStream publish), alternating in blocks on one broker in a
// child process, so that allocs/op and cpu-ns/run are the handlers' and
// the client's alone. hookgate/ideal-cpu is run.sh's cpu-us/req ratio
// without the HTTP server and the broker, which both pay alike.
func BenchmarkIngestGitHub1KiB(b *testing.B) {
	bs := separateBus(b)
	alternate(b, 100,
		contender{"ideal", githubIdeal(b, bs)},
		contender{"hookgate", githubHookgate(b, bs)},
	)
}

// githubBody is run.sh's body: 14 items in a GitHub-like event, padded
// with spaces to 1 KiB.
func githubBody() []byte {
	var sb strings.Builder
	sb.WriteString(`{"action":"opened","repository":{"full_name":"acme/shop"},"items":[`)
	for i := range 14 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"id":%d,"sku":"SKU-%05d","qty":%d}`, i, i, i%7)
	}
	sb.WriteString(`]}`)
	for sb.Len() < 1024 {
		sb.WriteByte(' ')
	}
	return []byte(sb.String())
}

// signGitHub sets run.sh's headers on c's request.
func signGitHub(c *ingestClient) {
	mac := hmac.New(sha256.New, []byte(benchGitHubSecret))
	mac.Write(c.raw)
	c.req.Header.Set("X-GitHub-Event", "push")
	c.req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
}

// githubHookgate returns one run.sh request to hookgate's handler, built
// from run.sh's config as serve builds it.
func githubHookgate(b *testing.B, bs *bus.Bus) func() {
	cfg, err := configs.Parse("hookgate.yaml", []byte(`
server: {listen: "127.0.0.1:0"}
admin: {listen: ""}
log: {level: warn}
incoming:
  - {name: gh, parser: json}
webhooks:
  - name: gh
    incoming: gh
    pre_processors:
      - hmac: {preset: github, secret: `+benchGitHubSecret+`}
`))
	if err != nil {
		b.Fatal(err)
	}
	rt, err := Build(cfg)
	if err != nil {
		b.Fatal(err)
	}
	// serve's logger: JSON at warn, so the request line is not written.
	core := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), zapcore.WarnLevel)
	s := New(rt, bs, zap.New(core))
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		b.Fatal(err)
	}
	s.SetMetrics(m)
	c := newIngestClient(b, s.Handler(), "/webhooks/gh", "application/json", githubBody())
	signGitHub(c)
	return func() { c.post(b) }
}

// githubIdeal returns one run.sh request to the ideal gateway's handler,
// as shared/bench/idealgw/main.go writes it (mode sync).
func githubIdeal(b *testing.B, bs *bus.Bus) func() {
	js, err := jetstream.New(bs.Conn())
	if err != nil {
		b.Fatal(err)
	}
	key := []byte(benchGitHubSecret)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
		if err != nil {
			http.Error(w, `{"error":"read"}`, 400)
			return
		}
		sig := strings.TrimPrefix(r.Header.Get("X-Hub-Signature-256"), "sha256=")
		want, _ := hex.DecodeString(sig)
		mac := hmac.New(sha256.New, key)
		mac.Write(body)
		if !hmac.Equal(mac.Sum(nil), want) {
			http.Error(w, `{"error":"invalid signature"}`, 401)
			return
		}
		_ = gjson.GetBytes(body, "action")
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if _, err := js.Publish(ctx, "tasks.ideal", body); err != nil {
			http.Error(w, `{"error":"unavailable"}`, 503)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"tasks":1}`)
	})
	c := newIngestClient(b, h, "/webhooks/gh", "application/json", githubBody())
	signGitHub(c)
	return func() { c.post(b) }
}
