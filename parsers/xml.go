package parsers

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"

	"golang.org/x/net/html/charset"
)

// xmlFrame is the pattern state of one open element that is not inside an item.
type xmlFrame struct {
	state    int            // pattern state for the children, or dSkip
	count    int            // children named segs[state] so far (for a following index)
	counts   map[string]int // per name, for * followed by an index
	track    bool           // the element's attributes and #text may be items
	hasChild bool
	hasAttr  bool
	pre      string // text before any child (mxj keeps this one as #text)
	post     string // text after a child or with attributes
	preSet   bool
	postSet  bool
}

// xmlWalker walks the tokens of one XML body once, matches the pattern on the
// way and converts each selected element as mxj does (see xmltree.go).
type xmlWalker struct {
	s      *Splitter
	sc     xmlScanner
	frames []xmlFrame // the open elements outside items (the scanner keeps all open names)
	tree   xmlTree
	build  int // depth before the item being built was opened; -1 none
	wrap   bool
	out    []byte // the chunk items are written into; see begin
	room   int    // free space a chunk must have for the next item
	emit   func([]byte) error
	// transient: the caller is done with an item when emit returns, so
	// the next one reuses its place in out.
	transient bool
}

// itemChunk is the size of the buffers items are written into: large
// enough that a chunk serves dozens of typical items with one allocation,
// small enough to stay a small-object allocation and to keep what a
// retained item pins bounded.
const itemChunk = 32 << 10

// errReader remembers a read error, so a failing body is reported as a read
// failure and not as the sender's malformed input.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

// walkXML splits an XML body, from body when it is in memory, else from r.
// Items are sub-slices of chunks that are never written below their length
// again, so they stay valid however long the caller keeps them; unless
// transient: then each item is written over the last one, valid during
// emit only.
func (s *Splitter) walkXML(body []byte, r io.Reader, contentType string, transient bool, emit func([]byte) error) error {
	w := s.xmlPool.Get().(*xmlWalker)
	w.prepare(s, emit)
	w.transient = transient
	defer s.release(w)
	storage := w.sc.rbuf
	var er *errReader
	if body == nil {
		er = &errReader{r: r}
		// Only the head is peeked at; a small buffer lets the window's
		// larger reads pass straight through instead of being copied twice.
		br := bufio.NewReaderSize(er, 1024)
		head, _ := br.Peek(1024)
		skip, label, err := xmlCharset(head, contentType)
		if err != nil {
			return err
		}
		_, _ = br.Discard(skip)
		in := io.Reader(br)
		if label != "" {
			if in, err = charset.NewReaderLabel(label, br); err != nil {
				return err
			}
		}
		w.sc.reset(nil, in, storage)
	} else {
		skip, label, err := xmlCharset(body[:min(len(body), 1024)], contentType)
		if err != nil {
			return err
		}
		if label == "" {
			w.sc.reset(body[skip:], nil, storage)
		} else {
			in, err := charset.NewReaderLabel(label, bytes.NewReader(body[skip:]))
			if err != nil {
				return err
			}
			w.sc.reset(nil, in, storage)
		}
	}
	err := w.walk()
	if er != nil && er.err != nil {
		return fmt.Errorf("read body: %w", er.err)
	}
	if err == errReadFailed {
		return fmt.Errorf("read body: %w", w.sc.rerr) // a transcoder failure
	}
	return err
}

func (w *xmlWalker) walk() error {
	segs := w.s.pat.segs
	doc := xmlFrame{state: 0}
	rootDone := false
	sc := &w.sc
	w.keepText()
	for {
		tok, err := sc.next()
		if err != nil {
			return err
		}
		switch tok {
		case tEOF:
			switch {
			case len(sc.opens) > 0:
				return w.syntax("unexpected end of input, <%s> is not closed", sc.top())
			case !rootDone:
				return w.syntax("no root element")
			}
			return nil
		case tStart:
			if rootDone {
				return w.syntax("second root element <%s>; a document has one", sc.top())
			}
			if len(sc.opens) > maxDepth {
				return errDepth()
			}
			if err := w.start(&doc, segs); err != nil {
				return err
			}
			if sc.selfClose {
				if rootDone, err = w.end(); err != nil {
					return err
				}
			}
		case tEnd:
			switch {
			case sc.endOK:
			case len(sc.opens) == 0:
				return w.syntax("unexpected end element </%s>", sc.nameBuf)
			case !bytes.Equal(sc.top(), sc.nameBuf):
				return w.syntax("element <%s> closed by </%s>", sc.top(), sc.nameBuf)
			}
			if rootDone, err = w.end(); err != nil {
				return err
			}
		case tText:
			switch {
			case sc.skipText:
				// Outside the root there are no frames, so its text is skipped.
				if len(sc.opens) == 0 && !sc.blank {
					return w.syntax("text outside the root element")
				}
			case w.build >= 0:
				w.tree.chars(sc.token())
			default:
				w.frames[len(w.frames)-1].addText(sc.token())
			}
		}
	}
}

// start handles a start tag, which the scanner has opened: inside an item it
// extends the tree, otherwise it matches the element against the pattern.
// Frames are kept only for elements outside items, so len(frames) == build
// while an item is built.
func (w *xmlWalker) start(doc *xmlFrame, segs []segment) error {
	sc := &w.sc
	if w.build >= 0 {
		w.tree.open(sc)
		return nil
	}
	parent := doc
	if len(w.frames) > 0 {
		parent = &w.frames[len(w.frames)-1]
	}
	d := dSkip
	if len(segs) == 0 {
		w.wrap = true // no pattern: the item is the document, {root: value}
		d = 0
	} else if parent.state >= 0 {
		d = w.childState(parent, sc.names[sc.local].name)
	}
	if d == len(segs) {
		w.build = len(sc.opens) - 1
		w.keepText()
		w.tree.reset()
		w.tree.open(sc)
		return nil
	}
	f := xmlFrame{state: dSkip}
	if d >= 0 {
		f.state = d
		seg := segs[d]
		f.track = d+1 == len(segs) && (seg.kind == segStar || strings.HasPrefix(seg.key, "-") || seg.key == "#text")
		f.hasAttr = len(sc.attrs) > 0
	}
	w.frames = append(w.frames, f)
	w.keepText()
	if f.track {
		return w.attrItems(segs[d])
	}
	return nil
}

// end closes the innermost element; it reports whether that was the root.
func (w *xmlWalker) end() (bool, error) {
	w.sc.pop()
	rootDone := len(w.sc.opens) == 0
	if w.build >= 0 {
		w.tree.close()
		if len(w.sc.opens) > w.build {
			return rootDone, nil
		}
		w.build = -1
		w.keepText()
		if len(w.frames) > 0 {
			w.frames[len(w.frames)-1].hasChild = true
		}
		err := w.item()
		w.sc.forgetNames() // the item held the last ids
		return rootDone, err
	}
	w.sc.forgetNames()              // no id is held outside an item
	f := &w.frames[len(w.frames)-1] // stays valid: popping frees nothing
	w.frames = w.frames[:len(w.frames)-1]
	w.keepText()
	if len(w.frames) > 0 {
		w.frames[len(w.frames)-1].hasChild = true
	}
	if f.track && (f.hasAttr || f.hasChild) {
		if text, ok := f.text(); ok {
			return rootDone, w.scalarItem(text)
		}
	}
	return rootDone, nil
}

// keepText tells the scanner whether the text it reads next is kept: only
// inside an item and in a frame whose #text may be one. It is called where
// those change, not per token; the rest is checked without being kept.
func (w *xmlWalker) keepText() {
	w.sc.skipText = w.build < 0 && (len(w.frames) == 0 || !w.frames[len(w.frames)-1].track)
}

// childState is the pattern state of a child element named local of a frame
// in state f.state, or dSkip. A numeric segment after a name counts that
// name's siblings, so one element and a repeated one mean the same.
func (w *xmlWalker) childState(f *xmlFrame, local string) int {
	segs := w.s.pat.segs
	seg := segs[f.state]
	if seg.kind != segStar && (seg.kind != segKey || seg.key != local) {
		return dSkip
	}
	next := f.state + 1
	if next < len(segs) && segs[next].kind == segIndex {
		var k int
		if seg.kind == segStar {
			if f.counts == nil {
				f.counts = make(map[string]int)
			}
			k = f.counts[local]
			f.counts[local]++
		} else {
			k = f.count
			f.count++
		}
		if k != segs[next].index {
			return dSkip
		}
		next++
	}
	return next
}

// attrItems yields the attributes a final segment (* or -name) selects; of
// duplicates such as a and ns:a only the last counts, as in mxj's map.
func (w *xmlWalker) attrItems(seg segment) error {
	sc := &w.sc
	attrs := sc.attrs
	var last map[int32]int // for many attributes, so this stays linear
	if len(attrs) > 16 {
		last = make(map[int32]int, len(attrs))
		for i, a := range attrs {
			last[a.id] = i
		}
	}
	for i := range attrs {
		a := &attrs[i]
		if k := sc.names[a.id].attr; seg.kind != segStar && seg.key != k[1:len(k)-2] { // -local in "-local":
			continue
		}
		isLast := true
		if last != nil {
			isLast = last[a.id] == i
		} else {
			for _, b := range attrs[i+1:] {
				isLast = isLast && b.id != a.id
			}
		}
		if isLast {
			if err := w.scalarItem(sc.attrVal(a)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (w *xmlWalker) scalarItem(text []byte) error {
	start := w.begin()
	w.out = appendScalar(w.out, text, w.s.xmlCast)
	return w.finish(start)
}

// item converts the element just built and hands it out.
func (w *xmlWalker) item() error {
	start := w.begin()
	if w.wrap {
		w.out = append(w.out, '{')
		w.out = append(w.out, w.sc.names[w.tree.nodes[0].key].key...)
	}
	w.tree.names = w.sc.names
	w.out = w.tree.appendValue(w.out, 0, w.s.xmlCast)
	if w.wrap {
		w.out = append(w.out, '}')
	}
	return w.finish(start)
}

// begin starts an item at the end of the current chunk, or in a new chunk
// when the free space is less than the largest item so far, so that an item
// rarely outgrows its chunk (append would then copy the chunk's earlier
// items too).
func (w *xmlWalker) begin() int {
	if cap(w.out)-len(w.out) < w.room {
		w.out = make([]byte, 0, max(itemChunk, 2*w.room))
	}
	return len(w.out)
}

func (w *xmlWalker) finish(start int) error {
	// Earlier items keep pointing into older arrays when append grows out;
	// nothing ever writes below len(out), so they stay intact.
	item := w.out[start:len(w.out):len(w.out)]
	w.room = max(w.room, len(item))
	err := w.emit(item)
	if w.transient {
		w.out = w.out[:start]
	}
	return err
}

// syntax is a 400 at the start of the current token.
func (w *xmlWalker) syntax(format string, args ...any) error {
	line, col := w.sc.tokenPos()
	return reject(http.StatusBadRequest, "invalid XML at line %d, column %d: %s", line, col, fmt.Sprintf(format, args...))
}

func (f *xmlFrame) addText(t []byte) {
	t = trimXML(t)
	if len(t) == 0 {
		return
	}
	if !f.hasAttr && !f.hasChild {
		f.pre, f.preSet = string(t), true
	} else {
		f.post, f.postSet = string(t), true
	}
}

func (f *xmlFrame) text() ([]byte, bool) {
	switch {
	case f.preSet:
		return []byte(f.pre), true
	case f.postSet:
		return []byte(f.post), true
	}
	return nil, false
}
