package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// memoryLimit is how much of a body is held in memory; beyond it the body
// is spooled to disk so that validators and parsers can re-read it without
// the process holding it (SPEC §4).
const memoryLimit = 1 << 20

// errTooLarge reports a body above the webhook's max_body.
var errTooLarge = errors.New("body too large")

// body is a request body read in full once: in memory up to memoryLimit,
// otherwise in a temporary file. It implements validators.Body.
type body struct {
	buf  *bytes.Buffer // nil when spooled
	file *os.File
	size int64
	pool *sync.Pool
}

var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readBody reads r up to limit bytes; more than limit is errTooLarge.
// sizeHint (Content-Length, or -1) lets a body that cannot fit in memory go
// straight to disk.
func readBody(r io.Reader, limit int64, spoolDir string) (*body, error) {
	b := &body{pool: &bufferPool}
	b.buf = bufferPool.Get().(*bytes.Buffer)
	b.buf.Reset()
	// One byte past the limit tells "exactly at the limit" from "above it".
	memCap := min(limit+1, memoryLimit+1)
	n, err := b.buf.ReadFrom(io.LimitReader(r, memCap))
	b.size = n
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("read body: %w", err)
	}
	if n > limit {
		b.Close()
		return nil, errTooLarge
	}
	if n <= memoryLimit {
		return b, nil
	}
	// Larger than memory allows: move what we have to a file and stream the rest.
	f, err := os.CreateTemp(spoolDir, "hookgate-body-*")
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("spool body: %w", err)
	}
	// The name is not needed: removing it now leaves nothing behind on a crash.
	_ = os.Remove(f.Name())
	b.file = f
	if _, err := f.Write(b.buf.Bytes()); err != nil {
		b.Close()
		return nil, fmt.Errorf("spool body: %w", err)
	}
	b.releaseBuffer()
	rest, err := io.Copy(f, io.LimitReader(r, limit+1-n))
	b.size += rest
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("spool body: %w", err)
	}
	if b.size > limit {
		b.Close()
		return nil, errTooLarge
	}
	return b, nil
}

// Size is the body's length in bytes.
func (b *body) Size() int64 { return b.size }

// Bytes is the body when held in memory, nil when spooled.
func (b *body) Bytes() []byte {
	if b.buf == nil {
		return nil
	}
	return b.buf.Bytes()
}

// Open returns an independent reader from the start of the body.
func (b *body) Open() io.ReadSeeker {
	if b.buf != nil {
		return bytes.NewReader(b.buf.Bytes())
	}
	return io.NewSectionReader(b.file, 0, b.size)
}

// keepBuffer stops the buffer from going back to the pool: publishes that
// were not acknowledged may still hold slices of it.
func (b *body) keepBuffer() { b.pool = nil }

func (b *body) releaseBuffer() {
	if b.buf != nil {
		// Very large buffers are not worth keeping in the pool.
		if b.pool != nil && b.buf.Cap() <= 2*memoryLimit {
			b.pool.Put(b.buf)
		}
		b.buf = nil
	}
}

// Close returns the buffer or closes (and so deletes) the spool file.
func (b *body) Close() error {
	b.releaseBuffer()
	if b.file != nil {
		err := b.file.Close()
		b.file = nil
		return err
	}
	return nil
}
