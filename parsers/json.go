package parsers

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
)

// Value dispositions and container states of the JSON walker. A value is
// parsed with a disposition; a container keeps a state for its children.
// Non-negative numbers are pattern states (segments consumed); a value whose
// state equals len(segs) is selected.
const (
	dSkip    = -1 // validate only
	dEach    = -2 // container state: every child is an item (a selected array)
	dCapture = -3 // value disposition: the value is an item
)

type jsonFrame struct {
	obj   bool
	state int // dSkip, dEach or a pattern state < len(segs)
	idx   int // index of the current array element
}

// jsonWalker is one streaming JSON scanner used by both read methods: over a
// whole body (r == nil, items are sub-slices of it) or over a reader through a
// window that keeps only the item being captured.
type jsonWalker struct {
	window

	segs     []segment
	frames   []jsonFrame
	capDepth int // len(frames) when the capture began; -1 none
	scratch  []byte
	what     string // "JSON", or "JSON in form field \"x\""
	emit     func([]byte) error
	// With emit nil, items are collected here (full mode without a closure
	// per request); more than maxItems is errTooMany, more than maxBytes in
	// total errTooBig.
	items    [][]byte
	maxItems int
	maxBytes int64
	total    int64
}

// errTooMany and errTooBig mark max_items and max_items_bytes reached while
// collecting; the splitter words them.
var (
	errTooMany = &Error{Status: http.StatusRequestEntityTooLarge, Message: "too many items"}
	errTooBig  = &Error{Status: http.StatusRequestEntityTooLarge, Message: "items too large"}
)

// collect parses a whole body in memory and returns its items, sub-slices of
// body, valid until the walker is used again.
func (w *jsonWalker) collect(body []byte, pat pattern, maxItems int, maxBytes int64) ([][]byte, error) {
	w.maxItems, w.maxBytes = maxItems, maxBytes
	err := w.walk(body, nil, "JSON", pat, 0, nil)
	return w.items, err
}

// run parses one JSON document, from body or, when body is nil, from r. The
// root is parsed with disposition root (dCapture, or a pattern state); with no
// pattern the root value is the one item.
func (w *jsonWalker) run(body []byte, r io.Reader, pat pattern, root int, emit func([]byte) error) error {
	return w.walk(body, r, "JSON", pat, root, emit)
}

// runAs runs over a document the splitter made (a form field, a CSV row);
// what names it in errors.
func (w *jsonWalker) runAs(doc []byte, what string, pat pattern, root int, emit func([]byte) error) error {
	return w.walk(doc, nil, what, pat, root, emit)
}

func (w *jsonWalker) walk(body []byte, r io.Reader, what string, pat pattern, root int, emit func([]byte) error) error {
	*w = jsonWalker{capDepth: -1, segs: pat.segs, frames: w.frames[:0], scratch: w.scratch[:0], what: what, emit: emit,
		items: w.items[:0], maxItems: w.maxItems, maxBytes: w.maxBytes}
	w.window.reset(body, r, w.rbuf)
	if len(pat.segs) == 0 && root == 0 {
		root = dCapture
	}
	err := w.document(root)
	w.window.done()
	w.emit = nil
	return err
}

func (w *jsonWalker) document(d int) error {
	if w.ensure(3); bytes.HasPrefix(w.buf[w.pos:], []byte("\xef\xbb\xbf")) {
		w.pos += 3
	}
	if err := w.value(d); err != nil {
		return err
	}
	if w.skipWS() {
		return w.syntax("unexpected %s after the top-level value", w.quoteChar())
	}
	if w.rerr != nil {
		return fmt.Errorf("read body: %w", w.rerr)
	}
	return nil
}

// value parses one complete value iteratively (no recursion, so nesting never
// grows the goroutine stack).
func (w *jsonWalker) value(d int) error {
	for {
		if !w.skipWS() {
			return w.syntax("unexpected end of input, expecting a value")
		}
		c := w.buf[w.pos]
		capture := d == dCapture || (d == len(w.segs) && c != '[')
		child := dSkip
		if d >= 0 && d < len(w.segs) {
			child = d
		} else if d == len(w.segs) && c == '[' {
			child = dEach
		}
		if capture {
			w.mark, w.capDepth = w.pos, len(w.frames)
		}
		if c == '{' || c == '[' {
			if len(w.frames) == maxDepth {
				return errDepth()
			}
			w.frames = append(w.frames, jsonFrame{obj: c == '{', state: child})
			w.pos++
			if !w.skipWS() {
				return w.syntax("unexpected end of input in %s", w.container())
			}
			if e := w.buf[w.pos]; (e == '}' && c == '{') || (e == ']' && c == '[') {
				w.pos++
				w.frames = w.frames[:len(w.frames)-1]
				if err := w.ended(); err != nil {
					return err
				}
			} else {
				var err error
				if d, err = w.firstChild(); err != nil {
					return err
				}
				continue
			}
		} else {
			if err := w.scalar(c); err != nil {
				return err
			}
			if err := w.ended(); err != nil {
				return err
			}
		}
		// After a complete value: close containers or move to the next child.
		for {
			if len(w.frames) == 0 {
				return nil
			}
			if !w.skipWS() {
				return w.syntax("unexpected end of input in %s", w.container())
			}
			f := &w.frames[len(w.frames)-1]
			c := w.buf[w.pos]
			if c == ',' {
				w.pos++
				var err error
				if f.obj {
					d, err = w.member(f)
				} else {
					f.idx++
					d = w.element(f)
				}
				if err != nil {
					return err
				}
				break
			}
			if (c == '}' && f.obj) || (c == ']' && !f.obj) {
				w.pos++
				w.frames = w.frames[:len(w.frames)-1]
				if err := w.ended(); err != nil {
					return err
				}
				continue
			}
			return w.syntax("unexpected %s in %s, expecting ',' or '%c'", w.quoteChar(), w.container(), closer(f.obj))
		}
	}
}

func (w *jsonWalker) firstChild() (int, error) {
	f := &w.frames[len(w.frames)-1]
	if f.obj {
		return w.member(f)
	}
	return w.element(f), nil
}

// ended is called after each complete value: it emits a finished capture.
func (w *jsonWalker) ended() error {
	if w.capDepth != len(w.frames) {
		return nil
	}
	item := w.buf[w.mark:w.pos:w.pos]
	w.mark, w.capDepth = -1, -1
	if w.emit == nil {
		if len(w.items) == w.maxItems {
			return errTooMany
		}
		if w.total += int64(len(item)); w.total > w.maxBytes {
			return errTooBig
		}
		w.items = append(w.items, item)
		return nil
	}
	return w.emit(item)
}

// element returns the disposition of array element f.idx.
func (w *jsonWalker) element(f *jsonFrame) int {
	switch s := f.state; {
	case s == dEach:
		return dCapture
	case s < 0:
		return dSkip
	default:
		switch seg := w.segs[s]; seg.kind {
		case segStar:
			return s + 1
		case segIndex:
			if f.idx == seg.index {
				return s + 1
			}
			return dSkip
		default:
			return s // arrays are transparent to keys
		}
	}
}

// member parses `"key":` and returns the member value's disposition.
func (w *jsonWalker) member(f *jsonFrame) (int, error) {
	if !w.skipWS() {
		return 0, w.syntax("unexpected end of input in object, expecting a key")
	}
	if w.buf[w.pos] != '"' {
		return 0, w.syntax("unexpected %s in object, expecting a key", w.quoteChar())
	}
	d := dSkip
	if f.state >= 0 {
		w.mark = w.pos
		escaped, err := w.str()
		if err != nil {
			return 0, err
		}
		key := w.buf[w.mark+1 : w.pos-1]
		w.mark = -1
		if escaped {
			w.scratch = unescapeJSON(w.scratch[:0], key)
			key = w.scratch
		}
		if w.segs[f.state].matchesKey(key) {
			d = f.state + 1
		}
	} else if _, err := w.str(); err != nil {
		return 0, err
	}
	if !w.skipWS() {
		return 0, w.syntax("unexpected end of input in object, expecting ':'")
	}
	if w.buf[w.pos] != ':' {
		return 0, w.syntax("unexpected %s after object key, expecting ':'", w.quoteChar())
	}
	w.pos++
	return d, nil
}

// skipWS skips whitespace and reports whether a byte follows.
func (w *jsonWalker) skipWS() bool {
	for w.more() {
		switch w.buf[w.pos] {
		case ' ', '\t', '\n', '\r':
			w.pos++
		default:
			return true
		}
	}
	return false
}

// syntax builds the 400 for a malformed body at the current position, unless
// the body could not be read, which is not the sender's syntax error.
func (w *jsonWalker) syntax(format string, args ...any) error {
	if w.rerr != nil {
		return fmt.Errorf("read body: %w", w.rerr)
	}
	line, col := w.position()
	return reject(http.StatusBadRequest, "invalid %s at line %d, column %d: %s", w.what, line, col, fmt.Sprintf(format, args...))
}

func (w *jsonWalker) quoteChar() string {
	if w.pos >= len(w.buf) {
		return "end of input"
	}
	return "character " + printable(w.buf[w.pos])
}

func (w *jsonWalker) container() string {
	if w.frames[len(w.frames)-1].obj {
		return "object"
	}
	return "array"
}

func closer(obj bool) byte {
	if obj {
		return '}'
	}
	return ']'
}

func printable(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("'%c'", c)
	}
	return fmt.Sprintf("0x%02x", c)
}
