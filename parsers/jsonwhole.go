package parsers

import "unicode/utf8"

// wholeJSON is the fast path of the commonest JSON webhook: no
// pattern_to_items, the body in memory, the document itself the one item.
// It only validates, in one tight loop over the bytes, and reports ok only
// for a body jsonWalker accepts (BOM, whitespace, depth, strings, numbers
// and literals alike); the item is then the same slice the walker would
// capture. Anything else (ok false) goes to the walker, which words the
// error. The walker's generality (a read window, pattern states, a frame per
// container) costs about three times as much on such a body.
func wholeJSON(body []byte) (item []byte, ok bool) {
	i := 0
	if len(body) >= 3 && body[0] == 0xef && body[1] == 0xbb && body[2] == 0xbf {
		i = 3
	}
	i = skipJSONSpace(body, i)
	start := i
	// open holds one bit per open container, set for an object; depth is
	// how many are open. maxDepth bits, as the walker's frames.
	var open [maxDepth / 64]uint64
	depth := 0
	for {
		// A value starts at i.
		if i >= len(body) {
			return nil, false
		}
		switch c := body[i]; {
		case c == '{' || c == '[':
			if depth == maxDepth {
				return nil, false
			}
			if c == '{' {
				open[depth/64] |= 1 << (depth % 64)
			} else {
				open[depth/64] &^= 1 << (depth % 64)
			}
			depth++
			i = skipJSONSpace(body, i+1)
			if i >= len(body) {
				return nil, false
			}
			if body[i] == '}' && c == '{' || body[i] == ']' && c == '[' {
				i++
				depth--
				break // an empty container is a complete value
			}
			if c == '{' {
				if i = jsonKey(body, i); i < 0 {
					return nil, false
				}
			}
			continue // its first child
		case c == '"':
			if i = jsonString(body, i); i < 0 {
				return nil, false
			}
		case c == '-' || c >= '0' && c <= '9':
			if i = jsonNumber(body, i); i < 0 {
				return nil, false
			}
		case c == 't':
			if i = jsonLiteral(body, i, "true"); i < 0 {
				return nil, false
			}
		case c == 'f':
			if i = jsonLiteral(body, i, "false"); i < 0 {
				return nil, false
			}
		case c == 'n':
			if i = jsonLiteral(body, i, "null"); i < 0 {
				return nil, false
			}
		default:
			return nil, false
		}
		// A value ended at i: close containers or go to the next child.
		for {
			if depth == 0 {
				end := i
				if skipJSONSpace(body, i) != len(body) {
					return nil, false
				}
				return body[start:end:end], true
			}
			i = skipJSONSpace(body, i)
			if i >= len(body) {
				return nil, false
			}
			obj := open[(depth-1)/64]&(1<<((depth-1)%64)) != 0
			c := body[i]
			if c == ',' {
				i = skipJSONSpace(body, i+1)
				if obj {
					if i = jsonKey(body, i); i < 0 {
						return nil, false
					}
				}
				break
			}
			if c == '}' && obj || c == ']' && !obj {
				i++
				depth--
				continue
			}
			return nil, false
		}
	}
}

func skipJSONSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// jsonKey reads `"key"` `:` at i (whitespace skipped before it already)
// and returns where the member's value starts, or -1.
func jsonKey(b []byte, i int) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	if i = jsonString(b, i); i < 0 {
		return -1
	}
	i = skipJSONSpace(b, i)
	if i >= len(b) || b[i] != ':' {
		return -1
	}
	return skipJSONSpace(b, i+1)
}

// plainStringByte marks the bytes a string holds as they are: ASCII, not
// a control character, a quote or a backslash.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// jsonString returns the index after the string starting at b[i] == '"',
// or -1 where the walker's str refuses it.
func jsonString(b []byte, i int) int {
	i++
	for i < len(b) {
		for i < len(b) && plainStringByte[b[i]] {
			i++
		}
		if i >= len(b) {
			return -1
		}
		c := b[i]
		switch {
		case c == '"':
			return i + 1
		case c == '\\':
			i++
			if i >= len(b) {
				return -1
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if i+4 >= len(b) || !isHex(b[i+1]) || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) {
					return -1
				}
				i += 5
			default:
				return -1
			}
		case c < 0x20:
			return -1
		case c < 0x80:
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size <= 1 {
				return -1
			}
			i += size
		}
	}
	return -1
}

// jsonNumber returns the index after the number starting at b[i], or -1.
func jsonNumber(b []byte, i int) int {
	if b[i] == '-' {
		i++
	}
	if i >= len(b) || !isDigit(b[i]) {
		return -1
	}
	if b[i] == '0' {
		i++
	} else {
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return -1
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return -1
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i
}

// jsonLiteral returns the index after lit at b[i], or -1.
func jsonLiteral(b []byte, i int, lit string) int {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}
