package gateway

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"
)

// dedupKey says where a request's de-duplication key comes from (SPEC §3
// dedup_key). The key makes Nats-Msg-Id stable across a sender's retries.
type dedupKey struct {
	kind string // "", "header", "body", "body_hash"
	arg  string
}

func parseDedupKey(spec string) (dedupKey, error) {
	switch {
	case spec == "":
		return dedupKey{}, nil
	case spec == "body_hash":
		return dedupKey{kind: "body_hash"}, nil
	case strings.HasPrefix(spec, "header:") && len(spec) > len("header:"):
		return dedupKey{kind: "header", arg: http.CanonicalHeaderKey(spec[len("header:"):])}, nil
	case strings.HasPrefix(spec, "body:") && len(spec) > len("body:"):
		return dedupKey{kind: "body", arg: spec[len("body:"):]}, nil
	}
	return dedupKey{}, fmt.Errorf("dedup_key %q: use header:NAME, body:GJSON.PATH or body_hash", spec)
}

// value returns the request's key, or "" when the request has none (the
// request id is used then, so nothing is de-duplicated by mistake).
func (d dedupKey) value(h http.Header, b *body) string {
	switch d.kind {
	case "header":
		return h.Get(d.arg)
	case "body":
		if raw := b.Bytes(); raw != nil {
			return gjson.GetBytes(raw, d.arg).String()
		}
		// Spooled bodies are larger than a key lookup is worth reading whole;
		// gjson needs the bytes, so read them once from the spool.
		raw, err := io.ReadAll(b.Open())
		if err != nil {
			return ""
		}
		return gjson.GetBytes(raw, d.arg).String()
	case "body_hash":
		sum := sha256.New()
		if _, err := io.Copy(sum, b.Open()); err != nil {
			return ""
		}
		return hex.EncodeToString(sum.Sum(nil))
	}
	return ""
}
