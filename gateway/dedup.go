package gateway

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/hookgate/hookgate/parsers"
)

// dedupKey says where a request's de-duplication key comes from (SPEC §3
// dedup_key). The key makes Nats-Msg-Id stable across a sender's retries.
type dedupKey struct {
	kind string // "", "header", "body", "body_hash"
	arg  string
	// modifiers: the body path uses a gjson modifier (@pretty, @valid,
	// @flatten...), and those recurse once per level of the document.
	modifiers bool
}

// Bounds of SPEC §11 on what a dedup key may cost.
const (
	// maxDedupKey is the longest key used as it is; a longer one is
	// replaced by its SHA-256, so Nats-Msg-Id stays small whatever a
	// sender puts in a header or a body field.
	maxDedupKey = 256
	// dedupPrefix is how much of a spooled body a body path reads.
	dedupPrefix = 1 << 20
	// dedupDepth is the deepest document a path with modifiers runs on:
	// the parsers' limit (SPEC §3.1), past which the body is refused anyway.
	dedupDepth = parsers.MaxDepth
)

func parseDedupKey(spec string) (dedupKey, error) {
	switch {
	case spec == "":
		return dedupKey{}, nil
	case spec == "body_hash":
		return dedupKey{kind: "body_hash"}, nil
	case strings.HasPrefix(spec, "header:") && len(spec) > len("header:"):
		return dedupKey{kind: "header", arg: http.CanonicalHeaderKey(spec[len("header:"):])}, nil
	case strings.HasPrefix(spec, "body:") && len(spec) > len("body:"):
		path := spec[len("body:"):]
		return dedupKey{kind: "body", arg: path, modifiers: strings.Contains(path, "@")}, nil
	}
	return dedupKey{}, fmt.Errorf("dedup_key %q: use header:NAME, body:GJSON.PATH or body_hash", spec)
}

// value returns the request's key, or "" when the request has none (the
// request id is used then, so nothing is de-duplicated by mistake).
func (d dedupKey) value(h http.Header, b *body) string {
	var v string
	switch d.kind {
	case "header":
		v = h.Get(d.arg)
	case "body":
		v = d.fromBody(b)
	case "body_hash":
		sum := sha256.New()
		if _, err := io.Copy(sum, b.Open()); err != nil {
			return ""
		}
		return hex.EncodeToString(sum.Sum(nil))
	}
	if len(v) > maxDedupKey {
		sum := sha256.Sum256([]byte(v))
		return hex.EncodeToString(sum[:])
	}
	return v
}

// fromBody looks the path up in the body in memory, or in the first
// dedupPrefix bytes of a spooled one: a key is near the top of a document,
// and the rest of a large body is not worth holding for it.
func (d dedupKey) fromBody(b *body) string {
	raw := b.Bytes()
	if raw == nil {
		buf := bufferPool.Get().(*bytes.Buffer)
		defer bufferPool.Put(buf)
		buf.Reset()
		buf.Grow(dedupPrefix) // once: Buffer.ReadFrom would double its way there
		raw = buf.AvailableBuffer()[:dedupPrefix]
		n, err := io.ReadFull(b.Open(), raw)
		if err != nil && err != io.ErrUnexpectedEOF {
			return ""
		}
		raw = raw[:n]
	}
	if d.modifiers && deeperThan(raw, dedupDepth) {
		return ""
	}
	// GetBytes copies what it returns, so raw may go back to the pool.
	return gjson.GetBytes(raw, d.arg).String()
}

// deeperThan reports whether the JSON in raw nests arrays and objects more
// than limit levels deep. It only counts brackets outside strings, without
// checking the syntax: the parsers do that, and raw may be the cut start of
// a spooled body, which parsers.CheckJSON would refuse as incomplete.
func deeperThan(raw []byte, limit int) bool {
	depth := 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '[', '{':
			if depth++; depth > limit {
				return true
			}
		case ']', '}':
			depth--
		case '"':
			for i++; i < len(raw) && raw[i] != '"'; i++ {
				if raw[i] == '\\' {
					i++
				}
			}
		}
	}
	return false
}
