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

// errSpoolFull reports a body that would take the spooled bodies past
// server.spool_max: the request is refused as busy (SPEC §11).
var errSpoolFull = errors.New("spool full")

// errSpool marks a failure of the spool itself (our disk), not of the
// sender: the request fails as ours, not as a bad request.
var errSpool = errors.New("spool body")

// spooler is where and how much a request may spool: the directory and
// spool_max of the runtime in use, and the Server's count of spooled bytes.
type spooler struct {
	dir    string
	max    int64
	budget *budget
}

// body is a request body read in full once: in memory up to memoryLimit,
// otherwise in a temporary file. It implements validators.Body.
type body struct {
	buf   *bytes.Buffer // nil when spooled
	spool *spoolFile    // nil while the body may stay in memory
	size  int64
	pool  *sync.Pool
	// limited reads the request body: here, not a LimitReader of its own,
	// which would be one more allocation per request.
	limited io.LimitedReader
}

// spoolFile is a spooled body's file and its share of spool_max: kept apart
// from body so that the bodies held in memory, nearly all of them, stay
// small.
type spoolFile struct {
	file     *os.File // nil until the body goes to disk
	budget   *budget
	reserved int64 // bytes of the budget this body holds
}

var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readBody reads r up to limit bytes; more than limit is errTooLarge. A
// body above memoryLimit is spooled, within sp's budget: a Content-Length
// (contentLength, -1 when unknown) that would not fit is errSpoolFull
// before anything is read, and a body of unknown length reserves as it is
// written. Whatever a body reserved goes back on Close.
func readBody(r io.Reader, limit, contentLength int64, sp spooler) (*body, error) {
	b := &body{pool: &bufferPool}
	if contentLength > memoryLimit {
		b.spool = &spoolFile{budget: sp.budget}
		if !b.spool.reserve(contentLength, sp.max) {
			return nil, errSpoolFull
		}
	}
	b.buf = bufferPool.Get().(*bytes.Buffer)
	b.buf.Reset()
	// One byte past the limit tells "exactly at the limit" from "above it".
	memCap := min(limit+1, memoryLimit+1)
	b.limited = io.LimitedReader{R: r, N: memCap}
	n, err := b.buf.ReadFrom(&b.limited)
	b.limited.R = nil
	b.size = n
	if err != nil {
		b.Close()
		return nil, err
	}
	if n > limit {
		b.Close()
		return nil, errTooLarge
	}
	if n <= memoryLimit {
		if b.spool != nil { // shorter than announced: nothing to spool
			b.spool.release()
			b.spool = nil
		}
		return b, nil
	}
	if b.spool == nil {
		b.spool = &spoolFile{budget: sp.budget}
	}
	if !b.spool.reserve(n, sp.max) {
		b.Close()
		return nil, errSpoolFull
	}
	// Larger than memory allows: move what we have to a file and stream the rest.
	f, err := os.CreateTemp(sp.dir, "hookgate-body-*")
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("%w: %w", errSpool, err)
	}
	// The name is not needed: removing it now leaves nothing behind on a crash.
	_ = os.Remove(f.Name())
	b.spool.file = f
	if _, err := f.Write(b.buf.Bytes()); err != nil {
		b.Close()
		return nil, fmt.Errorf("%w: %w", errSpool, err)
	}
	b.releaseBuffer()
	rest, err := io.Copy(&spoolWriter{s: b.spool, max: sp.max, at: n}, io.LimitReader(r, limit+1-n))
	b.size += rest
	if errors.Is(err, errSpoolFull) {
		b.Close()
		return nil, errSpoolFull
	}
	if err != nil {
		b.Close()
		return nil, err // the sender's read error, or errSpool from spoolWriter
	}
	if b.size > limit {
		b.Close()
		return nil, errTooLarge
	}
	return b, nil
}

// reserve makes the body hold at least total bytes of the spool budget.
func (s *spoolFile) reserve(total, max int64) bool {
	if total <= s.reserved {
		return true
	}
	if !s.budget.take(total-s.reserved, max) {
		return false
	}
	s.reserved = total
	return true
}

// release gives back what the body holds of the spool budget.
func (s *spoolFile) release() {
	if s.reserved > 0 {
		s.budget.give(s.reserved)
		s.reserved = 0
	}
}

// spoolWriter writes the rest of a body to its spool file, reserving
// each piece before it is written.
type spoolWriter struct {
	s   *spoolFile
	max int64
	at  int64 // bytes in the file so far
}

func (w *spoolWriter) Write(p []byte) (int, error) {
	if !w.s.reserve(w.at+int64(len(p)), w.max) {
		return 0, errSpoolFull
	}
	n, err := w.s.file.Write(p)
	w.at += int64(n)
	if err != nil {
		err = fmt.Errorf("%w: %w", errSpool, err)
	}
	return n, err
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
	return io.NewSectionReader(b.spool.file, 0, b.size)
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

// Close returns the buffer, closes (and so deletes) the spool file and gives
// back its share of the spool budget.
func (b *body) Close() error {
	b.releaseBuffer()
	if s := b.spool; s != nil {
		b.spool = nil
		s.release()
		if s.file != nil {
			return s.file.Close()
		}
	}
	return nil
}
