package parsers

import (
	"fmt"
	"net/http"
	"unicode/utf8"
)

// xmlScanner tokenizes UTF-8 XML. It accepts what encoding/xml's strict
// decoder accepts (names, the five predefined entities and character
// references, CDATA, comments, processing instructions, directives; \r\n
// becomes \n) and, like it, expands no declared entity, so entity-expansion
// bombs are refused. It exists because encoding/xml allocates for every token
// and ran at ~25 MB/s, slower than publishing the items; this scanner copies
// names once (interned) and text into reused buffers.
type xmlScanner struct {
	window
	intern    map[string]string
	nameBuf   []byte
	qname     string // element name as written (prefix:local)
	local     string // element local name
	attrs     []rawAttr
	vals      []byte // decoded attribute values
	text      []byte // decoded text or CDATA
	selfClose bool
	cache     [64]string // recent names, checked before the intern map
}

// tokenPos is where the current token starts.
func (s *xmlScanner) tokenPos() (int, int64) { return s.positionAt(s.mark) }

// rawAttr is one attribute of the current start tag; val is valid until the
// next token.
type rawAttr struct {
	local string
	val   []byte
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
			s.text = s.text[:0]
			return tText, s.chars(0)
		}
		s.pos++
		if !s.more() {
			return 0, s.eofErr()
		}
		switch s.buf[s.pos] {
		case '/':
			s.pos++
			if _, _, err := s.scanName("element", false); err != nil {
				return 0, err
			}
			s.space()
			if !s.more() {
				return 0, s.eofErr()
			}
			if s.buf[s.pos] != '>' {
				return 0, s.fail("invalid characters between </%s and >", s.nameBuf)
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
				s.text = s.text[:0]
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
	if err := s.elementName(); err != nil {
		return err
	}
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
		_, local, err := s.name("attribute")
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
		start := len(s.vals)
		s.text, s.vals = s.vals, s.text // decode into vals with the text routine
		err = s.chars(q)
		s.text, s.vals = s.vals, s.text
		if err != nil {
			return err
		}
		// Earlier values stay valid when vals grows: nothing writes below its length.
		s.attrs = append(s.attrs, rawAttr{local: local, val: s.vals[start:len(s.vals):len(s.vals)]})
	}
}

// elementName reads a (qualified) element name into qname and local.
func (s *xmlScanner) elementName() error {
	q, local, err := s.name("element")
	s.qname, s.local = q, local
	return err
}

// name reads a name and checks it as encoding/xml does; at most one colon,
// which separates the prefix from the local name.
func (s *xmlScanner) name(what string) (qname, local string, err error) {
	return s.scanName(what, true)
}

// scanName reads a name into nameBuf; with intern it also returns it as
// strings (an end tag is only compared, so it needs none).
func (s *xmlScanner) scanName(what string, intern bool) (qname, local string, err error) {
	s.nameBuf = s.nameBuf[:0]
	for s.more() {
		start := s.pos
		for s.pos < len(s.buf) && (s.buf[s.pos] >= utf8.RuneSelf || isNameByte(s.buf[s.pos])) {
			s.pos++
		}
		s.nameBuf = append(s.nameBuf, s.buf[start:s.pos]...)
		if s.pos < len(s.buf) {
			break
		}
	}
	if len(s.nameBuf) == 0 {
		if !s.more() {
			return "", "", s.eofErr()
		}
		return "", "", s.fail("expected %s name, found %s", what, printable(s.buf[s.pos]))
	}
	if !isXMLName(s.nameBuf) {
		return "", "", s.fail("invalid XML name: %s", appendJSONBody(nil, s.nameBuf))
	}
	colons := 0
	cut := -1
	for i, c := range s.nameBuf {
		if c == ':' {
			colons++
			cut = i
		}
	}
	if colons > 1 {
		return "", "", s.fail("invalid XML name %s: more than one colon", appendJSONBody(nil, s.nameBuf))
	}
	if !intern {
		return "", "", nil
	}
	qname = s.internName(s.nameBuf)
	local = qname
	if cut > 0 && cut < len(qname)-1 {
		local = s.internName(s.nameBuf[cut+1:])
	}
	return qname, local, nil
}

func (s *xmlScanner) internName(b []byte) string {
	slot := &s.cache[(len(b)*31+int(b[0])+int(b[len(b)-1])*7)&63]
	if *slot == string(b) {
		return *slot
	}
	if v, ok := s.intern[string(b)]; ok {
		*slot = v
		return v
	}
	v := string(b)
	if s.intern == nil {
		s.intern = make(map[string]string)
	}
	if len(s.intern) < 4096 { // hostile bodies with endless names get no cache
		s.intern[v] = v
	}
	*slot = v
	return v
}

func (s *xmlScanner) space() {
	for s.more() {
		switch s.buf[s.pos] {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return
		}
	}
}

func (s *xmlScanner) skipComment() error {
	s.pos += 2
	for {
		if !s.more() {
			return s.eofErr()
		}
		if s.buf[s.pos] == '-' && s.has("--") {
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
		s.pos++
	}
}

// skipPI skips <?target ...?>. The XML declaration was read before scanning.
func (s *xmlScanner) skipPI() error {
	s.pos++ // ?
	if _, _, err := s.name("processing instruction target"); err != nil {
		return err
	}
	for {
		if !s.more() {
			return s.eofErr()
		}
		if s.buf[s.pos] == '?' && s.has("?>") {
			s.pos += 2
			return nil
		}
		s.pos++
	}
}

// skipDirective skips <!DOCTYPE ...> and other directives, with their
// internal subset: nested <...>, quoted strings and comments. Like
// encoding/xml, the byte after <! never ends the directive.
func (s *xmlScanner) skipDirective() error {
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
			for !s.has("-->") {
				if !s.more() {
					return s.eofErr()
				}
				s.pos++
			}
			s.pos += 2 // the loop's s.pos++ passes the final >
		}
		s.pos++
	}
}
