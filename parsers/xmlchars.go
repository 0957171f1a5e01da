package parsers

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// chars reads text, up to '<' or the end, into the current token: in place
// when it needs no decoding, else decoded into s.text.
func (s *xmlScanner) chars() error {
	end, ok := s.plain(0)
	if ok {
		s.tokAt, s.tokEnd, s.inPlace, s.pos = s.pos, end, true, end
		return nil
	}
	s.inPlace = false
	s.text = append(s.text[:0], s.buf[s.pos:end]...)
	s.pos = end
	return s.decodeChars(0)
}

// plain is the fast path of text (quote 0) and attribute values: data
// without references, \r or ] that ends inside the buffer needs only
// checking. It reports whether that holds and where the data ends (at '<'
// or the quote); otherwise the end is where checking stopped, for
// decodeChars to go on from there.
func (s *xmlScanner) plain(quote byte) (end int, ok bool) {
	b, i := s.buf, s.pos
scan:
	for {
		i = textRun(b, i)
		if i == len(b) {
			break
		}
		switch c := b[i]; {
		case c == '<' && quote == 0, c == quote && quote != 0:
			return i, true
		case c == '"' || c == '\'':
			i++
		case c >= utf8.RuneSelf:
			if !utf8.FullRune(b[i:]) {
				break scan
			}
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 || !isXMLChar(r) {
				break scan // decodeChars words the error
			}
			i += size
		default:
			break scan
		}
	}
	return i, false
}

// decodeChars is chars for data that needs decoding or more input.
func (s *xmlScanner) decodeChars(quote byte) error {
	for {
		start := s.pos
		for s.pos < len(s.buf) {
			c := s.buf[s.pos]
			if c < 0x20 || c >= utf8.RuneSelf || c == '<' || c == '&' || c == ']' || (c == quote && quote != 0) {
				break
			}
			s.pos++
		}
		s.text = append(s.text, s.buf[start:s.pos]...)
		if !s.more() {
			if quote != 0 {
				return s.eofErr()
			}
			return nil
		}
		c := s.buf[s.pos]
		switch {
		case c == quote && quote != 0:
			s.pos++
			return nil
		case c == '<':
			if quote != 0 {
				return s.fail("unescaped < inside quoted string")
			}
			return nil
		case c == '&':
			if err := s.entity(); err != nil {
				return err
			}
		case c == ']':
			if quote == 0 && s.has("]]>") {
				return s.fail("unescaped ]]> not in CDATA section")
			}
			s.text = append(s.text, c)
			s.pos++
		default:
			if err := s.char(); err != nil {
				return err
			}
		}
	}
}

// char copies one control or non-ASCII character, checking it is an XML
// character; \r and \r\n become \n.
func (s *xmlScanner) char() error {
	c := s.buf[s.pos]
	switch {
	case c == '\r':
		s.text = append(s.text, '\n')
		s.pos++
		if s.more() && s.buf[s.pos] == '\n' {
			s.pos++
		}
		return nil
	case c == '\n' || c == '\t':
		s.text = append(s.text, c)
		s.pos++
		return nil
	}
	size, err := s.checkChar()
	if err != nil {
		return err
	}
	s.text = append(s.text, s.buf[s.pos:s.pos+size]...)
	s.pos += size
	return nil
}

// checkChar checks the control or non-ASCII character at pos other than
// \t, \n and \r, and returns its length; text that is kept and text that is
// skipped share it, so both refuse the same with the same words.
func (s *xmlScanner) checkChar() (int, error) {
	if c := s.buf[s.pos]; c < 0x20 {
		return 0, s.fail("illegal character code U+%04X", c)
	}
	s.ensure(utf8.UTFMax)
	r, size := utf8.DecodeRune(s.buf[s.pos:])
	if r == utf8.RuneError && size == 1 {
		return 0, s.fail("invalid UTF-8")
	}
	if !isXMLChar(r) {
		return 0, s.fail("illegal character code %U", r)
	}
	return size, nil
}

// cdata reads a CDATA section's content into s.text.
func (s *xmlScanner) cdata() error {
	for {
		start := s.pos
		for s.pos < len(s.buf) {
			c := s.buf[s.pos]
			if c < 0x20 || c >= utf8.RuneSelf || c == ']' {
				break
			}
			s.pos++
		}
		s.text = append(s.text, s.buf[start:s.pos]...)
		if !s.more() {
			return s.fail("unexpected EOF in CDATA section")
		}
		if s.buf[s.pos] == ']' {
			if s.has("]]>") {
				s.pos += 3
				return nil
			}
			s.text = append(s.text, ']')
			s.pos++
			continue
		}
		if err := s.char(); err != nil {
			return err
		}
	}
}

// isXMLName checks a name: a letter, '_' or ':' first, then also digits,
// '.', '-', combining marks and extenders.
func isXMLName(b []byte) bool {
	ascii := true
	for _, c := range b {
		ascii = ascii && c < utf8.RuneSelf
	}
	if ascii {
		// isNameByte already held for every byte; only the first is stricter.
		c := b[0]
		return c == '_' || c == ':' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
	}
	for i := 0; i < len(b); {
		r, size := rune(b[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return false
			}
		}
		ok := unicode.IsLetter(r) || r == '_' || r == ':'
		if i > 0 {
			ok = ok || unicode.IsDigit(r) || r == '.' || r == '-' || r == 0xB7 || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r) || unicode.Is(unicode.Lm, r)
		}
		if !ok {
			return false
		}
		i += size
	}
	return true
}

// isXMLChar is the XML 1.0 Char production.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// entity decodes one of the five predefined entities or a character
// reference into s.text; any other entity is refused, never expanded.
func (s *xmlScanner) entity() error {
	r, err := s.entityRune()
	if err != nil {
		return err
	}
	s.text = utf8.AppendRune(s.text, r)
	return nil
}

// entityRune reads the reference at pos and returns the character it
// stands for.
func (s *xmlScanner) entityRune() (rune, error) {
	s.pos++ // &
	s.nameBuf = s.nameBuf[:0]
	for s.more() && len(s.nameBuf) < 32 {
		c := s.buf[s.pos]
		if c == ';' || c == '<' || c == '&' || c <= ' ' {
			break
		}
		s.nameBuf = append(s.nameBuf, c)
		s.pos++
	}
	if !s.more() || s.buf[s.pos] != ';' {
		return 0, s.fail("invalid character entity &%s (no semicolon)", appendJSONBody(nil, s.nameBuf))
	}
	s.pos++
	ref := s.nameBuf
	var r rune = -1
	switch string(ref) {
	case "lt":
		r = '<'
	case "gt":
		r = '>'
	case "amp":
		r = '&'
	case "apos":
		r = '\''
	case "quot":
		r = '"'
	default:
		if len(ref) > 1 && ref[0] == '#' {
			digits, base := ref[1:], 10
			if digits[0] == 'x' {
				digits, base = digits[1:], 16
			}
			if n, err := strconv.ParseUint(string(digits), base, 32); err == nil && n <= unicode.MaxRune && validDigits(digits, base) {
				r = rune(n)
				if r >= 0xD800 && r <= 0xDFFF {
					r = utf8.RuneError // as encoding/xml: string(rune(n))
				}
				if !isXMLChar(r) {
					return 0, s.fail("illegal character code %U", r)
				}
			}
		}
	}
	if r < 0 {
		return 0, s.fail("invalid character entity &%s;", appendJSONBody(nil, ref))
	}
	return r, nil
}

func validDigits(d []byte, base int) bool {
	for _, c := range d {
		if !isDigit(c) && !(base == 16 && isHex(c)) {
			return false
		}
	}
	return len(d) > 0
}

// isNameByte reports whether c may appear in a name (encoding/xml's set).
func isNameByte(c byte) bool {
	// Bit sets of the name bytes below 64 ('-', '.', digits, ':') and from
	// 64 to 127 (letters, '_'), as constants rather than a mutable table.
	const lo = 1<<'-' | 1<<'.' | 0x3FF<<'0' | 1<<':'
	const hi = 0x3FFFFFF<<('A'-64) | 1<<('_'-64) | 0x3FFFFFF<<('a'-64)
	switch {
	case c < 64:
		return lo>>c&1 == 1
	case c < 128:
		return hi>>(c-64)&1 == 1
	}
	return false
}
