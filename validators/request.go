package validators

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Request is what a validator sees: no HTTP framework types.
type Request struct {
	Method     string
	URL        *url.URL // as received (path + raw query)
	Header     http.Header
	RemoteAddr string // "ip:port" of the TCP peer
	Body       Body
	Now        time.Time // injected clock
}

// Body is the request body, already read in full (in memory, or spooled to disk above 1 MiB).
type Body interface {
	Size() int64
	Bytes() []byte       // the whole body when held in memory; nil when spooled
	Open() io.ReadSeeker // a fresh reader from the start, each call independent (works in both cases)
}

// Validator decides whether one request may pass.
type Validator interface {
	// Validate returns nil when the request passes, a *Rejection when it does
	// not, or another error when the check itself failed (e.g. reading a
	// spooled body).
	Validate(ctx context.Context, r *Request) error
	// NeedsBody reports whether Validate reads the body. Those that do not
	// (header_secret, basic_auth, ip_allowlist, the gitlab token) judge a
	// request by its headers and peer address alone, so they can run before
	// the body is read and refuse it without waiting for it (SPEC §11);
	// their Request may have a nil Body.
	NeedsBody() bool
}

// Rejection is a failed check; the gateway renders {"error": Message} with Status and Header.
type Rejection struct {
	Status  int
	Message string
	Header  http.Header
}

// Error returns the message the sender sees.
func (r *Rejection) Error() string { return r.Message }

// Chain is the validators of one webhook, run in order.
type Chain []Validator

// Validate runs every validator in order; the first failure wins and nil
// means all passed. A server that runs the validators without NeedsBody
// first changes which failure wins when several would fail, never whether
// the request passes.
func (c Chain) Validate(ctx context.Context, r *Request) error {
	for _, v := range c {
		if err := v.Validate(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

// BytesBody is a Body held in memory.
type BytesBody []byte

// Size returns the length of the body.
func (b BytesBody) Size() int64 { return int64(len(b)) }

// Bytes returns the body itself, never nil.
func (b BytesBody) Bytes() []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Open returns a new reader over the body.
func (b BytesBody) Open() io.ReadSeeker { return bytes.NewReader(b) }

var _ Body = BytesBody(nil)
