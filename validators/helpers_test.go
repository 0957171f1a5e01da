package validators

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/configs"
)

// fileBody is a spooled body: the bytes live only in a temp file, as the
// gateway keeps bodies above 1 MiB.
type fileBody struct {
	path string
	size int64
}

func newFileBody(t testing.TB, b []byte) fileBody {
	t.Helper()
	p := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return fileBody{path: p, size: int64(len(b))}
}

func (f fileBody) Size() int64   { return f.size }
func (f fileBody) Bytes() []byte { return nil }
func (f fileBody) Open() io.ReadSeeker {
	fh, err := os.Open(f.path)
	if err != nil {
		return errReader{err}
	}
	return fh
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error)       { return 0, e.err }
func (e errReader) Seek(int64, int) (int64, error) { return 0, e.err }

// testNow is the injected clock of every test.
var testNow = time.Unix(1_700_000_000, 0)

func newRequest(t testing.TB, rawURL string, h http.Header, body Body) *Request {
	t.Helper()
	if rawURL == "" {
		rawURL = "/webhooks/test"
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	if h == nil {
		h = http.Header{}
	}
	return &Request{Method: http.MethodPost, URL: u, Header: h, RemoteAddr: "192.0.2.10:41234", Body: body, Now: testNow}
}

func mustBuild(t testing.TB, pp ...configs.PreProcessor) Chain {
	t.Helper()
	c, err := Build(pp)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return c
}

func hmacPP(c configs.HMAC) configs.PreProcessor { return configs.PreProcessor{HMAC: &c} }

// macOf is an independent HMAC computation for expected values.
func macOf(h func() hash.Hash, key string, parts ...string) []byte {
	m := hmac.New(h, []byte(key))
	for _, p := range parts {
		io.WriteString(m, p)
	}
	return m.Sum(nil)
}

// wantResult checks err against an expected outcome: "" means pass, else
// the rejection message must start with want.
func wantResult(t testing.TB, err error, want string, status int) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("want pass, got %v", err)
		}
		return
	}
	var rej *Rejection
	if !errors.As(err, &rej) {
		t.Fatalf("want rejection %q, got %v", want, err)
	}
	if !strings.HasPrefix(rej.Message, want) {
		t.Fatalf("message = %q, want it to start with %q", rej.Message, want)
	}
	if rej.Status != status {
		t.Fatalf("status = %d, want %d", rej.Status, status)
	}
}

func validate(t testing.TB, c Chain, r *Request) error {
	t.Helper()
	return c.Validate(context.Background(), r)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
