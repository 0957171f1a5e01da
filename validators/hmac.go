package validators

import (
	"context"
	"crypto/hmac"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookgate/hookgate/configs"
)

// segKind is one piece of a signed payload template.
type segKind int

const (
	segLiteral segKind = iota
	segID
	segTimestamp
	segBody
)

type segment struct {
	kind segKind
	lit  []byte
}

// parseSignedPayload splits a template such as "{id}.{timestamp}.{body}"
// into segments. Only {id}, {timestamp} and {body} are placeholders; any
// other text is signed literally.
func parseSignedPayload(tmpl string) ([]segment, error) {
	if tmpl == "" {
		tmpl = "{body}"
	}
	var segs []segment
	bodies := 0
	placeholders := [...]struct {
		kind segKind
		name string
	}{{segID, "{id}"}, {segTimestamp, "{timestamp}"}, {segBody, "{body}"}}
	for tmpl != "" {
		at, kind, name := -1, segLiteral, ""
		for _, p := range placeholders {
			if i := strings.Index(tmpl, p.name); i >= 0 && (at < 0 || i < at) {
				at, kind, name = i, p.kind, p.name
			}
		}
		if at < 0 {
			segs = appendLiteral(segs, tmpl)
			break
		}
		segs = appendLiteral(segs, tmpl[:at])
		segs = append(segs, segment{kind: kind})
		if kind == segBody {
			bodies++
		}
		tmpl = tmpl[at+len(name):]
	}
	if bodies != 1 {
		return nil, fmt.Errorf("must contain {body} exactly once, so that the signature covers the body")
	}
	return segs, nil
}

func appendLiteral(segs []segment, s string) []segment {
	if s == "" {
		return segs
	}
	if n := len(segs); n > 0 && segs[n-1].kind == segLiteral {
		segs[n-1].lit = append(segs[n-1].lit, s...)
		return segs
	}
	return append(segs, segment{kind: segLiteral, lit: []byte(s)})
}

// hmacValidator checks one HMAC signature scheme: a preset or the generic
// keys. Everything that does not depend on the request is computed by Build.
type hmacValidator struct {
	sigKey, sigName string // canonical header key, and the name shown in messages
	tsKey, tsName   string // "" when the scheme has no timestamp header
	idKey, idName   string // "" when the scheme has no id header
	tolerance       time.Duration
	scheme          configs.SigScheme // SigPrefixed, SigStripe or SigStandardWebhooks
	prefix          string
	enc             encoding
	size            int // MAC length in bytes
	payload         []segment
	needsTS         bool // the payload or tolerance uses a timestamp
	newHash         func() hash.Hash
	keys            [][]byte
	pool            sync.Pool // *macState
}

var _ Validator = (*hmacValidator)(nil)

// macState is the per-request scratch of one validator, pooled so that the
// hot path does not allocate: one keyed HMAC per secret, the candidate
// signatures, and a read buffer for spooled bodies.
type macState struct {
	macs    []hash.Hash
	sum     []byte
	sigs    []byte
	scratch []byte
	buf     []byte
}

func (v *hmacValidator) init() {
	v.pool.New = func() any {
		st := &macState{macs: make([]hash.Hash, len(v.keys))}
		for i, k := range v.keys {
			st.macs[i] = hmac.New(v.newHash, k)
		}
		return st
	}
}

func (v *hmacValidator) reject(msg string) error {
	return &Rejection{Status: http.StatusUnauthorized, Message: msg}
}

func firstHeader(h http.Header, key string) string {
	if vs := h[key]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// NeedsBody is true: every scheme signs the body.
func (v *hmacValidator) NeedsBody() bool { return true }

// Validate checks the signature of r.
func (v *hmacValidator) Validate(ctx context.Context, r *Request) error {
	value := firstHeader(r.Header, v.sigKey)
	if value == "" {
		return v.reject("missing signature header " + v.sigName)
	}
	var id, ts string
	if v.idKey != "" {
		if id = firstHeader(r.Header, v.idKey); id == "" {
			return v.reject("missing signature header " + v.idName)
		}
	}
	if v.tsKey != "" {
		if ts = firstHeader(r.Header, v.tsKey); ts == "" {
			return v.reject("missing signature header " + v.tsName)
		}
	}

	st := v.pool.Get().(*macState)
	defer v.pool.Put(st)
	sigs := st.sigs[:0]
	switch v.scheme {
	case configs.SigPrefixed:
		sigs, _ = parsePrefixed(sigs, value, v.prefix, v.enc, v.size, &st.scratch)
	case configs.SigStripe:
		sigs, ts = parseStripe(sigs, value, v.size)
		if ts == "" {
			st.sigs = sigs
			return v.reject("invalid signature: no t= timestamp in " + v.sigName)
		}
	case configs.SigStandardWebhooks:
		sigs = parseStandardWebhooks(sigs, value, v.size, &st.scratch)
	}
	st.sigs = sigs
	if len(sigs) == 0 {
		return v.reject("invalid signature")
	}
	// The timestamp is checked before any hashing so that replays of old
	// requests cost nothing.
	if v.needsTS {
		if err := v.checkTimestamp(ts, r.Now); err != nil {
			return err
		}
	}
	if err := v.write(ctx, st, id, ts, r.Body); err != nil {
		return err
	}
	matched := false
	for _, m := range st.macs {
		st.sum = m.Sum(st.sum[:0])
		for off := 0; off+v.size <= len(sigs); off += v.size {
			// Every comparison runs, so the time taken does not tell which
			// secret or which candidate matched.
			if hmac.Equal(st.sum, sigs[off:off+v.size]) {
				matched = true
			}
		}
	}
	if !matched {
		return v.reject("invalid signature")
	}
	return nil
}

func (v *hmacValidator) checkTimestamp(ts string, now time.Time) error {
	sec, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
	if err != nil {
		return v.reject("invalid signature: timestamp is not unix seconds")
	}
	d := now.Sub(time.Unix(sec, 0))
	if d > v.tolerance || d < -v.tolerance {
		return v.reject("timestamp outside tolerance")
	}
	return nil
}

// write feeds the signed payload through every keyed MAC, reading a spooled
// body once, in chunks, so that it never sits in memory.
func (v *hmacValidator) write(ctx context.Context, st *macState, id, ts string, body Body) error {
	for _, m := range st.macs {
		m.Reset()
	}
	writeAll := func(p []byte) {
		for _, m := range st.macs {
			m.Write(p)
		}
	}
	for _, seg := range v.payload {
		switch seg.kind {
		case segLiteral:
			writeAll(seg.lit)
		case segID:
			st.scratch = append(st.scratch[:0], id...)
			writeAll(st.scratch)
		case segTimestamp:
			st.scratch = append(st.scratch[:0], ts...)
			writeAll(st.scratch)
		case segBody:
			if err := streamBody(ctx, body, &st.buf, writeAll); err != nil {
				return err
			}
		}
	}
	return nil
}

const readChunk = 32 << 10

// streamBody hands the body to fn: in one piece when it is in memory, else
// in chunks read from the spool file.
func streamBody(ctx context.Context, body Body, buf *[]byte, fn func([]byte)) error {
	if body == nil {
		return nil
	}
	if p := body.Bytes(); p != nil {
		fn(p)
		return nil
	}
	rd := body.Open()
	if c, ok := rd.(io.Closer); ok {
		defer c.Close()
	}
	if cap(*buf) < readChunk {
		*buf = make([]byte, readChunk)
	}
	b := (*buf)[:readChunk]
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := rd.Read(b)
		if n > 0 {
			fn(b[:n])
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read spooled body for signature check: %w", err)
		}
	}
}

// sum computes the MAC of the signed payload with the first secret, for signing.
func (v *hmacValidator) sum(id, ts string, body []byte) []byte {
	m := hmac.New(v.newHash, v.keys[0])
	for _, seg := range v.payload {
		switch seg.kind {
		case segLiteral:
			m.Write(seg.lit)
		case segID:
			io.WriteString(m, id)
		case segTimestamp:
			io.WriteString(m, ts)
		case segBody:
			m.Write(body)
		}
	}
	return m.Sum(nil)
}

// sign sets the signature headers on h for body, with the given id (used
// only when the scheme has one) and time.
func (v *hmacValidator) sign(h http.Header, body []byte, id string, now time.Time) {
	ts := strconv.FormatInt(now.Unix(), 10)
	mac := v.sum(id, ts, body)
	if v.idKey != "" {
		h[v.idKey] = []string{id}
	}
	if v.tsKey != "" {
		h[v.tsKey] = []string{ts}
	}
	var value string
	switch v.scheme {
	case configs.SigPrefixed:
		value = v.prefix + v.enc.encode(mac)
	case configs.SigStripe:
		value = "t=" + ts + ",v1=" + encHex.encode(mac)
	case configs.SigStandardWebhooks:
		value = "v1," + encBase64.encode(mac)
	}
	h[v.sigKey] = []string{value}
}
