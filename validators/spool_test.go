package validators

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"testing"

	"github.com/hookgate/hookgate/configs"
)

// Bodies above 1 MiB are spooled: the signature is computed by streaming the
// file in chunks, and must agree with the in-memory computation at every
// chunk boundary.
func TestSpooledBodiesValidateLikeInMemory(t *testing.T) {
	sizes := []int{0, 1, readChunk - 1, readChunk, readChunk + 1, 1<<20 + 17}
	presets := []configs.HMAC{
		{Preset: "github", Secret: "gh"},
		{Preset: "standard_webhooks", Secret: swhSecret(swhKey), Secrets: []string{swhSecret("second")}},
		{Preset: "stripe", Secret: "whsec_x"},
	}
	for _, cfg := range presets {
		for _, n := range sizes {
			body := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
			pp := []configs.PreProcessor{hmacPP(cfg)}
			h := http.Header{}
			if err := Sign(pp, http.MethodPost, "", h, body, testNow); err != nil {
				t.Fatal(err)
			}
			chain := mustBuild(t, pp...)
			mem := validate(t, chain, newRequest(t, "", h.Clone(), BytesBody(body)))
			spooled := validate(t, chain, newRequest(t, "", h.Clone(), newFileBody(t, body)))
			if mem != nil || spooled != nil {
				t.Fatalf("%s, %d bytes: in memory %v, spooled %v", cfg.Preset, n, mem, spooled)
			}
			if n == 0 {
				continue
			}
			changed := append([]byte(nil), body...)
			changed[n-1] ^= 0x01 // the last byte, in the last chunk
			wantResult(t, validate(t, chain, newRequest(t, "", h.Clone(), newFileBody(t, changed))), "invalid signature", http.StatusUnauthorized)
		}
	}
}

func TestSpooledBodyFailures(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 3*readChunk)
	pp := []configs.PreProcessor{hmacPP(configs.HMAC{Preset: "github", Secret: "gh"})}
	h := http.Header{}
	if err := Sign(pp, http.MethodPost, "", h, body, testNow); err != nil {
		t.Fatal(err)
	}
	chain := mustBuild(t, pp...)

	t.Run("an unreadable spool file is an error, not a rejection", func(t *testing.T) {
		fb := newFileBody(t, body)
		if err := os.Remove(fb.path); err != nil {
			t.Fatal(err)
		}
		err := validate(t, chain, newRequest(t, "", h.Clone(), fb))
		var rej *Rejection
		if err == nil || errors.As(err, &rej) {
			t.Fatalf("want a plain error, got %v", err)
		}
	})
	t.Run("a cancelled request stops reading", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := chain.Validate(ctx, newRequest(t, "", h.Clone(), newFileBody(t, body)))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("want context.Canceled, got %v", err)
		}
	})
}
