package validators

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/hookgate/hookgate/configs"
)

func benchChain(b *testing.B, cfg configs.HMAC, body Body, raw []byte) {
	b.Helper()
	pp := []configs.PreProcessor{hmacPP(cfg)}
	h := http.Header{}
	if err := Sign(pp, http.MethodPost, "http://127.0.0.1:8080/webhooks/bench", h, raw, testNow); err != nil {
		b.Fatal(err)
	}
	chain := mustBuild(b, pp...)
	r := newRequest(b, "/webhooks/bench", h, body)
	ctx := context.Background()
	if err := chain.Validate(ctx, r); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	for b.Loop() {
		if err := chain.Validate(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

func benchBody(n int) []byte {
	return bytes.Repeat([]byte(`{"sku":"A-1","qty":2},`), n/22+1)[:n]
}

func BenchmarkChainGitHub1KiB(b *testing.B) {
	raw := benchBody(1 << 10)
	benchChain(b, configs.HMAC{Preset: "github", Secret: "bench-secret"}, BytesBody(raw), raw)
}

func BenchmarkChainGitHub1MiB(b *testing.B) {
	raw := benchBody(1 << 20)
	benchChain(b, configs.HMAC{Preset: "github", Secret: "bench-secret"}, BytesBody(raw), raw)
}

// The gateway spools bodies above 1 MiB; this is the streamed path.
func BenchmarkChainGitHub1MiBSpooled(b *testing.B) {
	raw := benchBody(1 << 20)
	benchChain(b, configs.HMAC{Preset: "github", Secret: "bench-secret"}, newFileBody(b, raw), raw)
}

func BenchmarkChainStripe1KiB(b *testing.B) {
	raw := benchBody(1 << 10)
	benchChain(b, configs.HMAC{Preset: "stripe", Secret: "whsec_bench"}, BytesBody(raw), raw)
}

func BenchmarkChainStandardWebhooks1KiB(b *testing.B) {
	raw := benchBody(1 << 10)
	benchChain(b, configs.HMAC{Preset: "standard_webhooks", Secret: swhSecret("bench-key")}, BytesBody(raw), raw)
}

// Rotation doubles the hashing: two secrets, the second one matching.
func BenchmarkChainGitHub1KiBTwoSecrets(b *testing.B) {
	raw := benchBody(1 << 10)
	pp := []configs.PreProcessor{hmacPP(configs.HMAC{Preset: "github", Secret: "new"})}
	h := http.Header{}
	if err := Sign(pp, http.MethodPost, "", h, raw, testNow); err != nil {
		b.Fatal(err)
	}
	chain := mustBuild(b, hmacPP(configs.HMAC{Preset: "github", Secret: "old", Secrets: []string{"new"}}))
	r := newRequest(b, "", h, BytesBody(raw))
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if err := chain.Validate(context.Background(), r); err != nil {
			b.Fatal(err)
		}
	}
}

// The router signs every delivery; SignOutgoing builds its signer per call.
func BenchmarkSignOutgoingStandardWebhooks1KiB(b *testing.B) {
	raw := benchBody(1 << 10)
	cfg := configs.HMAC{Preset: "standard_webhooks", Secret: swhSecret("bench-key")}
	h := http.Header{}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if err := SignOutgoing(cfg, h, raw, "0190f1c2-7a3b-erp-0", testNow); err != nil {
			b.Fatal(err)
		}
	}
}
