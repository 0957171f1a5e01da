package parsers

import (
	"bytes"
	"fmt"
	"net/http"
)

// xmlScanner tokenizes UTF-8 XML. It accepts what encoding/xml's strict
// decoder accepts (names, the five predefined entities and character
// references, CDATA, comments, processing instructions, directives; \r\n
// becomes \n) and, like it, expands no declared entity, so entity-expansion
// bombs are refused. It exists because encoding/xml allocates for every token
// and ran at ~25 MB/s, slower than publishing the items; this scanner copies
// names once (interned) and leaves plain text in place, copying only text
// that needs decoding into reused buffers.
//
// What changes per token holds no pointers (ids and offsets, not strings
// and slices): the scanner lives on the heap, and every pointer stored
// there pays a write barrier while the collector runs, which with the
// allocation rate of item output is much of the time.
type xmlScanner struct {
	window
	intern    map[string]int32 // name -> id in names
	names     []xname          // interned names by id
	nameBytes int              // their length, to bound what a pooled scanner keeps
	nameBuf   []byte
	open      []byte // qualified names of the open elements, one after another
	opens     []int  // where each open element's name starts in open
	local     int32  // id of the element's local name
	attrs     []rawAttr
	vals      []byte // decoded attribute values
	text      []byte // decoded text or CDATA
	tokAt     int    // the current text token is buf[tokAt:tokEnd] if inPlace, else text
	tokEnd    int
	inPlace   bool
	selfClose bool
	endOK     bool          // the end tag just read closes the innermost open element
	skipText  bool          // set by the walker: no item keeps the next text token
	blank     bool          // the skipped text token was whitespace only
	cache     [256]nameSlot // recent names, checked before the intern map
	// Where a skipped text token started, once its mark is dropped. These
	// are last and the two flags above sit in padding: laid out otherwise,
	// the new fields alone (no new code) cost ~2% in
	// BenchmarkSplitXML2000Orders, by moving the walker's hot fields.
	tokLine int
	tokCol  int64
}

// tokenPos is where the current token starts. Only a skipped text token
// has no mark by then; it kept its start as a number instead (dropMark).
func (s *xmlScanner) tokenPos() (int, int64) {
	if s.mark < 0 {
		return s.tokLine, s.tokCol
	}
	return s.positionAt(s.mark)
}

// rawAttr is one attribute of the current start tag, valid until the next
// token; its value is buf[mark+off:][:n], or vals[off:][:n] if copied.
// Offsets from mark survive a refill while later attributes are read: it
// moves buf, but keeps buf[mark:] in order.
type rawAttr struct {
	id     int32 // local name
	copied bool
	off, n int
}

// attrVal is the value of a.
func (s *xmlScanner) attrVal(a *rawAttr) []byte {
	if a.copied {
		return s.vals[a.off : a.off+a.n]
	}
	return s.buf[s.mark+a.off : s.mark+a.off+a.n]
}

// token is the current text token.
func (s *xmlScanner) token() []byte {
	if s.inPlace {
		return s.buf[s.tokAt:s.tokEnd]
	}
	return s.text
}

type xmlTok uint8

const (
	tEOF xmlTok = iota
	tStart
	tEnd
	tText
)

func (s *xmlScanner) fail(format string, args ...any) error {
	if s.rerr != nil {
		return errReadFailed
	}
	line, col := s.position()
	return reject(http.StatusBadRequest, "invalid XML at line %d, column %d: %s", line, col, fmt.Sprintf(format, args...))
}

// errReadFailed stands for a body read error; the walker reports rerr.
var errReadFailed = &Error{Status: 0, Message: "read failed"}

func (s *xmlScanner) eofErr() error { return s.fail("unexpected EOF") }

// next returns the next element or text token, skipping comments,
// processing instructions and directives.
func (s *xmlScanner) next() (xmlTok, error) {
	for {
		s.mark = s.pos // keep the token's start, for its position in errors
		if !s.more() {
			if s.rerr != nil {
				return 0, errReadFailed
			}
			return tEOF, nil
		}
		if s.buf[s.pos] != '<' {
			// Only whitespace before a tag is no text for the walker (it
			// trims text), so it is skipped without a token.
			i := s.pos
			for i < len(s.buf) && (s.buf[i] == ' ' || s.buf[i] == '\n' || s.buf[i] == '\t' || s.buf[i] == '\r') {
				i++
			}
			if i < len(s.buf) && s.buf[i] == '<' {
				s.pos = i
				continue
			}
			if s.skipText {
				return tText, s.skipChars()
			}
			return tText, s.chars()
		}
		s.pos++
		if !s.more() {
			return 0, s.eofErr()
		}
		switch s.buf[s.pos] {
		case '/':
			s.pos++
			s.endOK = s.closes()
			if !s.endOK {
				if _, err := s.scanName("element", nameCheck); err != nil {
					return 0, err
				}
			}
			s.space()
			if !s.more() {
				return 0, s.eofErr()
			}
			if s.buf[s.pos] != '>' {
				name := s.nameBuf
				if s.endOK {
					name = s.top()
				}
				return 0, s.fail("invalid characters between </%s and >", name)
			}
			s.pos++
			return tEnd, nil
		case '?':
			if err := s.skipPI(); err != nil {
				return 0, err
			}
		case '!':
			s.pos++
			switch {
			case s.has("--"):
				if err := s.skipComment(); err != nil {
					return 0, err
				}
			case s.has("-"):
				return 0, s.fail("invalid sequence <!- not part of <!--")
			case s.has("[CDATA["):
				s.pos += 7
				if s.skipText {
					return tText, s.skipCDATA()
				}
				s.text = s.text[:0]
				s.inPlace = false
				return tText, s.cdata()
			case s.has("["):
				return 0, s.fail("invalid <![ sequence")
			default:
				if err := s.skipDirective(); err != nil {
					return 0, err
				}
			}
		default:
			return tStart, s.startTag()
		}
	}
}

func (s *xmlScanner) startTag() error {
	local, err := s.scanName("element", nameElem)
	if err != nil {
		return err
	}
	s.local = local
	s.attrs, s.vals, s.selfClose = s.attrs[:0], s.vals[:0], false
	for {
		s.space()
		if !s.more() {
			return s.eofErr()
		}
		switch s.buf[s.pos] {
		case '/':
			s.pos++
			if !s.more() {
				return s.eofErr()
			}
			if s.buf[s.pos] != '>' {
				return s.fail("expected /> in element")
			}
			s.pos++
			s.selfClose = true
			return nil
		case '>':
			s.pos++
			return nil
		}
		local, err = s.scanName("attribute", nameAttr)
		if err != nil {
			return err
		}
		s.space()
		if !s.more() {
			return s.eofErr()
		}
		if s.buf[s.pos] != '=' {
			return s.fail("attribute name without = in element")
		}
		s.pos++
		s.space()
		if !s.more() {
			return s.eofErr()
		}
		q := s.buf[s.pos]
		if q != '"' && q != '\'' {
			return s.fail("unquoted or missing attribute value in element")
		}
		s.pos++
		at := s.pos
		if end, ok := s.plain(q); ok {
			s.pos = end + 1
			s.attrs = append(s.attrs, rawAttr{id: local, off: at - s.mark, n: end - at})
			continue
		}
		start := len(s.vals)
		s.text, s.vals = s.vals, s.text // decode into vals with the text routine
		err = s.decodeChars(q)
		s.text, s.vals = s.vals, s.text
		if err != nil {
			return err
		}
		s.attrs = append(s.attrs, rawAttr{id: local, copied: true, off: start, n: len(s.vals) - start})
	}
}

// space skips whitespace. Tags mostly have none where it is called: that
// case returns at once, and the rest goes to spaceMore.
func (s *xmlScanner) space() {
	if i := s.pos; i >= len(s.buf) || byteClass[s.buf[i]]&cSpace != 0 {
		s.spaceMore()
	}
}

// spaceMore is space across refills.
func (s *xmlScanner) spaceMore() {
	for s.more() {
		switch s.buf[s.pos] {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return
		}
	}
}

// skipComment skips <!--...-->. Like skipPI and skipDirective it keeps
// nothing of what it skips, so it clears the token's mark: a refill may then
// drop every byte already checked, and a comment of any size costs one
// window, not its length. Their errors are placed at pos, not at the mark.
func (s *xmlScanner) skipComment() error {
	s.mark = -1
	s.pos += 2
	if err := s.seek("--"); err != nil {
		return err
	}
	s.pos += 2
	if !s.more() {
		return s.eofErr()
	}
	if s.buf[s.pos] != '>' {
		return s.fail(`invalid sequence "--" not allowed in comments`)
	}
	s.pos++
	return nil
}

// skipPI skips <?target ...?>. The XML declaration was read before scanning.
func (s *xmlScanner) skipPI() error {
	s.mark = -1
	s.pos++ // ?
	if _, err := s.scanName("processing instruction target", nameCheck); err != nil {
		return err
	}
	if err := s.seek("?>"); err != nil {
		return err
	}
	s.pos += 2
	return nil
}

// seek moves pos to the next occurrence of p, refilling as it goes, for
// the skips that keep nothing (each refill may drop what was passed).
func (s *xmlScanner) seek(p string) error {
	for {
		if !s.more() {
			return s.eofErr()
		}
		i := bytes.IndexByte(s.buf[s.pos:], p[0])
		if i < 0 {
			s.pos = len(s.buf)
			continue
		}
		s.pos += i
		if s.has(p) {
			return nil
		}
		s.pos++
	}
}

// skipDirective skips <!DOCTYPE ...> and other directives, with their
// internal subset: nested <...>, quoted strings and comments. Like
// encoding/xml, the byte after <! never ends the directive.
func (s *xmlScanner) skipDirective() error {
	s.mark = -1
	if !s.more() {
		return s.eofErr()
	}
	s.pos++ // encoding/xml takes the byte after <! as part of the name
	depth := 0
	var quote byte
	for {
		if !s.more() {
			return s.eofErr()
		}
		c := s.buf[s.pos]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '>' && depth == 0:
			s.pos++
			return nil
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			depth--
		case c == '<':
			if !s.has("<!--") {
				depth++
				break
			}
			// A comment inside a directive ends at the first -->.
			s.pos += 4
			if err := s.seek("-->"); err != nil {
				return err
			}
			s.pos += 2 // the loop's s.pos++ passes the final >
		}
		s.pos++
	}
}
