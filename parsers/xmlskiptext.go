package parsers

// Text that no item keeps (between items, in parents that are no item,
// before and after the root) is checked exactly like kept text but not
// copied, and its token lets go of its mark once it runs past the buffer: a
// refill may then drop every byte already checked, so text of any length
// costs one window. The walker needs of such text only whether it was blank
// (text outside the root is refused) and where it started, which is kept as
// a line and column.

// skipChars is chars for text no item keeps. Errors inside the text are
// placed at pos, as chars places them.
func (s *xmlScanner) skipChars() error {
	end, ok := s.plain(0)
	s.blank = isBlank(s.buf[s.pos:end])
	s.pos = end
	if ok {
		return nil // all in the buffer: the mark may stay
	}
	s.dropMark()
	for {
		start := s.pos
		for s.pos < len(s.buf) && isSkipTextByte(s.buf[s.pos]) {
			s.pos++
		}
		if s.blank {
			s.blank = isBlank(s.buf[start:s.pos])
		}
		if !s.more() {
			return nil
		}
		switch c := s.buf[s.pos]; {
		case isSkipTextByte(c):
			continue // the run went up to a refill
		case c == '<':
			return nil
		case c == '&':
			r, err := s.entityRune()
			if err != nil {
				return err
			}
			s.blank = s.blank && (r == ' ' || r == '\t' || r == '\n' || r == '\r')
		case c == ']':
			if s.has("]]>") {
				return s.fail("unescaped ]]> not in CDATA section")
			}
			s.pos++
			s.blank = false
		default:
			size, err := s.checkChar()
			if err != nil {
				return err
			}
			s.pos += size
			s.blank = false
		}
	}
}

// skipCDATA is cdata for a section no item keeps; pos is past <![CDATA[.
func (s *xmlScanner) skipCDATA() error {
	s.dropMark()
	s.blank = true
	for {
		start := s.pos
		for s.pos < len(s.buf) && isSkipCDATAByte(s.buf[s.pos]) {
			s.pos++
		}
		if s.blank {
			s.blank = isBlank(s.buf[start:s.pos])
		}
		if !s.more() {
			return s.fail("unexpected EOF in CDATA section")
		}
		if c := s.buf[s.pos]; isSkipCDATAByte(c) {
			continue // the run went up to a refill
		} else if c == ']' {
			if s.has("]]>") {
				s.pos += 3
				return nil
			}
			s.pos++
			s.blank = false
			continue
		}
		size, err := s.checkChar()
		if err != nil {
			return err
		}
		s.pos += size
		s.blank = false
	}
}

// dropMark keeps the token's start as a line and column for tokenPos and
// clears the mark, so refills stop keeping the token's bytes.
func (s *xmlScanner) dropMark() {
	s.tokLine, s.tokCol = s.positionAt(s.mark)
	s.mark = -1
}

// isBlank reports whether b is all XML whitespace, which is what trimXML
// leaves nothing of in text that passed the checks (its \b is no XML
// character, raw or as a reference).
func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\n' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// isSkipTextByte is true of text bytes that need no check beyond being
// there: ASCII other than < & ] and controls, or \t \n \r. Unlike kept text,
// \r needs no rewriting into \n when nothing is kept.
func isSkipTextByte(c byte) bool {
	return c >= 0x20 && c < 0x80 && c != '<' && c != '&' && c != ']' || c == '\n' || c == '\t' || c == '\r'
}

// isSkipCDATAByte is isSkipTextByte for CDATA, where only ] is special.
func isSkipCDATAByte(c byte) bool {
	return c >= 0x20 && c < 0x80 && c != ']' || c == '\n' || c == '\t' || c == '\r'
}
