package parsers

import (
	"unicode/utf8"
)

// str scans a string at its opening quote; it reports whether it had escapes.
func (w *jsonWalker) str() (bool, error) {
	w.pos++
	escaped := false
	for {
		for w.pos < len(w.buf) {
			c := w.buf[w.pos]
			if c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
				break
			}
			w.pos++
		}
		if !w.more() {
			return false, w.syntax("unexpected end of input in string")
		}
		switch c := w.buf[w.pos]; {
		case c == '"':
			w.pos++
			return escaped, nil
		case c == '\\':
			escaped = true
			w.pos++
			if !w.more() {
				return false, w.syntax("unexpected end of input in string escape")
			}
			switch w.buf[w.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				w.pos++
			case 'u':
				w.pos++
				for i := 0; i < 4; i++ {
					if !w.more() {
						return false, w.syntax("unexpected end of input in string escape")
					}
					if !isHex(w.buf[w.pos]) {
						return false, w.syntax("invalid \\u escape in string")
					}
					w.pos++
				}
			default:
				return false, w.syntax("invalid escape \\%s in string", printable(w.buf[w.pos]))
			}
		case c < 0x20:
			return false, w.syntax("control character 0x%02x in string; escape it", c)
		default:
			w.ensure(utf8.UTFMax)
			r, size := utf8.DecodeRune(w.buf[w.pos:])
			if r == utf8.RuneError && size <= 1 {
				return false, w.syntax("invalid UTF-8 in string")
			}
			w.pos += size
		}
	}
}

func (w *jsonWalker) scalar(c byte) error {
	switch {
	case c == '"':
		_, err := w.str()
		return err
	case c == '-' || (c >= '0' && c <= '9'):
		return w.number()
	case c == 't':
		return w.literal("true")
	case c == 'f':
		return w.literal("false")
	case c == 'n':
		return w.literal("null")
	}
	return w.syntax("unexpected %s, expecting a value", w.quoteChar())
}

func (w *jsonWalker) number() error {
	if w.buf[w.pos] == '-' {
		w.pos++
	}
	if !w.more() || !isDigit(w.buf[w.pos]) {
		return w.syntax("invalid number, expecting a digit")
	}
	if w.buf[w.pos] == '0' {
		w.pos++
	} else {
		w.digits()
	}
	if w.more() && w.buf[w.pos] == '.' {
		w.pos++
		if !w.more() || !isDigit(w.buf[w.pos]) {
			return w.syntax("invalid number, expecting a digit after '.'")
		}
		w.digits()
	}
	if w.more() && (w.buf[w.pos] == 'e' || w.buf[w.pos] == 'E') {
		w.pos++
		if w.more() && (w.buf[w.pos] == '+' || w.buf[w.pos] == '-') {
			w.pos++
		}
		if !w.more() || !isDigit(w.buf[w.pos]) {
			return w.syntax("invalid number, expecting a digit in the exponent")
		}
		w.digits()
	}
	return nil
}

func (w *jsonWalker) digits() {
	for w.more() && isDigit(w.buf[w.pos]) {
		w.pos++
	}
}

func (w *jsonWalker) literal(lit string) error {
	for i := 0; i < len(lit); i++ {
		if !w.more() {
			return w.syntax("unexpected end of input in literal %s", lit)
		}
		if w.buf[w.pos] != lit[i] {
			return w.syntax("unexpected %s in literal %s", w.quoteChar(), lit)
		}
		w.pos++
	}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}
