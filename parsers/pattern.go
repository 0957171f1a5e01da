package parsers

import (
	"fmt"
	"strconv"
	"strings"
)

// A pattern_to_items path is matched as a small state machine: the state of a
// node is how many segments its path from the document root has consumed, so
// a walker needs one int per open container and never backtracks.
//
// How segments meet values (the same for JSON, form, CSV and XML):
//   - a key segment on an object selects that member;
//   - a key segment on an array applies to every element (arrays are
//     transparent, as in mxj's ValuesForPath). XML needs this because one
//     <Order> is an object and two are an array; JSON follows so that one
//     pattern means one thing everywhere;
//   - a numeric segment on an array selects that element; on an object it is a
//     key ("0" matches the member named "0"). In XML it selects the n-th
//     sibling of the name before it, so Orders.Order.0 is the first Order
//     whether there are one or many;
//   - * selects every member or element (in XML: attributes, child elements,
//     then #text);
//   - a selected array yields each element as an item; any other selected node
//     is one item.

// segKind is what one pattern segment matches.
type segKind uint8

const (
	segKey   segKind = iota // a member or element name
	segIndex                // digits: an array index, or a key on objects
	segStar                 // every child
)

// segment is one parsed pattern segment.
type segment struct {
	kind  segKind
	key   string // the name; for segIndex the digits as written
	index int
}

// pattern is a parsed pattern_to_items; the zero pattern selects the document.
type pattern struct {
	text string
	segs []segment
}

// parsePattern splits text on unescaped dots. `\.` is a literal dot, `\*` a
// literal star key and `\\` a backslash.
func parsePattern(text string) (pattern, error) {
	p := pattern{text: text}
	if text == "" {
		return p, nil
	}
	var cur strings.Builder
	escaped := false // the segment had an escape, so "*" in it is a key
	flush := func(at int) error {
		s := cur.String()
		cur.Reset()
		if s == "" {
			return fmt.Errorf("pattern_to_items %q: empty segment at byte %d; remove the extra dot or escape it as \\.", text, at)
		}
		p.segs = append(p.segs, newSegment(s, escaped))
		escaped = false
		return nil
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch c {
		case '\\':
			if i+1 == len(text) {
				return pattern{}, fmt.Errorf("pattern_to_items %q: trailing backslash; escape a dot as \\. or a backslash as \\\\", text)
			}
			n := text[i+1]
			if n != '.' && n != '\\' && n != '*' {
				return pattern{}, fmt.Errorf("pattern_to_items %q: unknown escape \\%c at byte %d; only \\. \\* and \\\\ are allowed", text, n, i)
			}
			cur.WriteByte(n)
			escaped = true
			i++
		case '.':
			if err := flush(i); err != nil {
				return pattern{}, err
			}
		default:
			cur.WriteByte(c)
		}
	}
	if err := flush(len(text)); err != nil {
		return pattern{}, err
	}
	return p, nil
}

func newSegment(s string, escaped bool) segment {
	if s == "*" && !escaped {
		return segment{kind: segStar, key: s}
	}
	if isIndex(s) {
		if n, err := strconv.Atoi(s); err == nil {
			return segment{kind: segIndex, key: s, index: n}
		}
	}
	return segment{kind: segKey, key: s}
}

// isIndex reports whether s is a canonical array index: 0 or digits without a
// leading zero ("01" stays a key).
func isIndex(s string) bool {
	if s == "" || len(s) > 18 || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// matchesKey reports whether segment seg selects the object member named key.
func (seg segment) matchesKey(key []byte) bool {
	return seg.kind == segStar || seg.key == string(key)
}

// String renders the pattern back to its written form.
func (p pattern) String() string {
	var b strings.Builder
	for i, s := range p.segs {
		if i > 0 {
			b.WriteByte('.')
		}
		if s.kind == segKey && s.key == "*" {
			b.WriteString(`\*`)
			continue
		}
		b.WriteString(strings.NewReplacer(`\`, `\\`, `.`, `\.`).Replace(s.key))
	}
	return b.String()
}
