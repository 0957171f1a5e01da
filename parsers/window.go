package parsers

import (
	"bytes"
	"io"
)

// window is the input of a scanner: a whole body in memory (r == nil), or a
// reader seen through a buffer that drops what was read unless a capture
// still needs it, so memory follows the largest item, not the body.
type window struct {
	buf    []byte
	rbuf   []byte // the buffer's storage, kept for reuse across requests
	pos    int
	r      io.Reader
	eof    bool
	rerr   error
	mark   int   // start of bytes that must survive a refill; -1 none
	off    int64 // body offset of buf[0]
	nlPos  int   // newlines before buf[nlPos] are counted in lines
	lines  int
	lastNL int64 // body offset of the last counted newline; -1 none
}

func (w *window) reset(body []byte, r io.Reader, storage []byte) {
	*w = window{buf: body, r: r, mark: -1, lastNL: -1, rbuf: storage}
	if r != nil {
		w.buf = storage[:0]
	}
}

// done gives the buffer back for reuse; a body in memory belongs to the caller.
func (w *window) done() {
	if w.r == nil {
		w.buf = nil
		return
	}
	w.rbuf = w.buf[:0]
	if cap(w.rbuf) > 1<<20 {
		w.rbuf = nil // do not keep the window of a huge item
	}
	w.buf, w.r = nil, nil
}

// more reports whether buf[pos] exists, refilling from r if needed.
func (w *window) more() bool {
	return w.pos < len(w.buf) || w.fill()
}

// ensure tries to have n bytes from pos in the buffer.
func (w *window) ensure(n int) {
	for len(w.buf)-w.pos < n && w.fill() {
	}
}

// has reports whether the input at pos starts with p.
func (w *window) has(p string) bool {
	w.ensure(len(p))
	return len(w.buf)-w.pos >= len(p) && string(w.buf[w.pos:w.pos+len(p)]) == p
}

// fill drops what nothing needs, then reads more; it reports whether the
// buffer grew.
func (w *window) fill() bool {
	if w.r == nil || w.eof {
		return false
	}
	drop := w.pos
	if w.mark >= 0 {
		drop = w.mark
	}
	if drop > 0 {
		w.count(drop)
		n := copy(w.buf, w.buf[drop:])
		w.buf = w.buf[:n]
		w.off += int64(drop)
		w.pos -= drop
		w.nlPos -= drop
		if w.mark >= 0 {
			w.mark -= drop
		}
	}
	if len(w.buf) == cap(w.buf) {
		nb := make([]byte, len(w.buf), max(2*cap(w.buf), 32<<10))
		copy(nb, w.buf)
		w.buf = nb
	}
	before := len(w.buf)
	for len(w.buf) == before {
		n, err := w.r.Read(w.buf[len(w.buf):cap(w.buf)])
		w.buf = w.buf[:len(w.buf)+n]
		if err != nil {
			w.eof = true
			if err != io.EOF {
				w.rerr = err
			}
			break
		}
	}
	return len(w.buf) > before
}

// count moves the newline count up to buf[end]; every byte is counted once.
func (w *window) count(end int) {
	if end <= w.nlPos {
		return
	}
	seg := w.buf[w.nlPos:end]
	if n := bytes.Count(seg, []byte{'\n'}); n > 0 {
		w.lines += n
		w.lastNL = w.off + int64(w.nlPos+bytes.LastIndexByte(seg, '\n'))
	}
	w.nlPos = end
}

// position is the 1-based line and byte column of pos.
func (w *window) position() (line int, col int64) {
	return w.positionAt(w.pos)
}

// positionAt is the line and column of buf[i]; i must not be before a
// position already asked for, which holds for the one error of a split.
func (w *window) positionAt(i int) (line int, col int64) {
	i = max(min(i, len(w.buf)), w.nlPos)
	w.count(i)
	return w.lines + 1, w.off + int64(i) - w.lastNL
}
