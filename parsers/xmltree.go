package parsers

import (
	"math"
	"strconv"
	"strings"
)

// The conversion follows clbanning/mxj/v2 (xmlToMapParser) with its default
// settings: local names as keys, attributes as "-name" (the last of
// duplicates wins), text trimmed of "\t\r\b\n " and kept as "#text" beside
// attributes or children, repeated siblings as arrays, an empty element as "",
// values cast only when asked. Of several text chunks, mxj keeps the last one
// before the first child if there was any, else the last one after. Keys are
// written in document order (attributes, #text, then children by first
// appearance) instead of mxj's sorted order.

// trimSet is the set mxj trims from text (trimRunes).
const trimSet = "\t\r\b\n "

// trimXML trims trimSet from both ends, as strings.Trim does, without
// building the set on every call.
func trimXML(b []byte) []byte {
	isTrim := func(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\b' }
	for len(b) > 0 && isTrim(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isTrim(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

type span struct{ start, end int32 }

// xnode is one element of the item being built; nodes live in one arena.
type xnode struct {
	key             int32 // id of the local name in names
	attrStart       int32
	attrEnd         int32
	first, last     int32  // children
	kids            int32  // how many
	kidMask         uint64 // bit id%64 of each child's name
	repeats         bool   // two children may share a name (their bits did)
	next            int32  // next sibling
	pre, post       span
	preSet, postSet bool
	done            bool // already written as part of a sibling group
}

type xattr struct {
	key int32 // id of the local name
	val span
}

// xmlTree holds one selected element while it is read; it is reset for the
// next item, so memory is bounded by the largest item.
type xmlTree struct {
	nodes []xnode
	attrs []xattr
	text  []byte
	stack []int32
	names []xname // the scanner's, by id, set before an item is written
}

func (t *xmlTree) reset() {
	t.nodes, t.attrs, t.text, t.stack = t.nodes[:0], t.attrs[:0], t.text[:0], t.stack[:0]
}

func (t *xmlTree) addText(s []byte) span {
	start := int32(len(t.text))
	t.text = append(t.text, s...)
	return span{start, int32(len(t.text))}
}

func (t *xmlTree) str(s span) []byte { return t.text[s.start:s.end] }

// open adds the element the scanner just read as the last child of the open
// one.
func (t *xmlTree) open(sc *xmlScanner) {
	attrs := sc.attrs
	id := int32(len(t.nodes))
	// Set field by field in place: a composite literal is built on the stack
	// and copied in 16-byte moves that stall on its narrower stores.
	t.nodes = append(t.nodes, xnode{})
	n := &t.nodes[id] // nothing below appends to nodes
	n.key, n.first, n.last, n.next, n.attrStart = sc.local, -1, -1, -1, int32(len(t.attrs))
	var seen map[int32]int32 // only for elements with many attributes
	for i := range attrs {
		a := &attrs[i]
		val := t.addText(sc.attrVal(a))
		dup := int32(-1)
		if len(attrs) <= 16 {
			for j := n.attrStart; j < int32(len(t.attrs)); j++ {
				if t.attrs[j].key == a.id {
					dup = j
				}
			}
		} else {
			if seen == nil {
				seen = make(map[int32]int32, len(attrs))
			}
			if j, ok := seen[a.id]; ok {
				dup = j
			} else {
				seen[a.id] = int32(len(t.attrs))
			}
		}
		if dup >= 0 {
			t.attrs[dup].val = val
			continue
		}
		t.attrs = append(t.attrs, xattr{key: a.id, val: val})
	}
	n.attrEnd = int32(len(t.attrs))
	if len(t.stack) > 0 {
		p := &t.nodes[t.stack[len(t.stack)-1]]
		if p.last >= 0 {
			t.nodes[p.last].next = id
		} else {
			p.first = id
		}
		p.last = id
		p.kids++
		bit := uint64(1) << (uint32(sc.local) & 63)
		p.repeats = p.repeats || p.kidMask&bit != 0
		p.kidMask |= bit
	}
	t.stack = append(t.stack, id)
}

func (t *xmlTree) close() { t.stack = t.stack[:len(t.stack)-1] }

func (t *xmlTree) chars(s []byte) {
	s = trimXML(s)
	if len(s) == 0 {
		return
	}
	n := &t.nodes[t.stack[len(t.stack)-1]]
	if n.attrEnd == n.attrStart && n.first < 0 {
		n.pre, n.preSet = t.addText(s), true
	} else {
		n.post, n.postSet = t.addText(s), true
	}
}

// leaf reports whether n has neither attributes nor children: its value is
// its text.
func (n *xnode) leaf() bool { return n.attrStart == n.attrEnd && n.first < 0 }

// appendLeaf writes the value of a leaf, without appendValue's call.
func (t *xmlTree) appendLeaf(b []byte, n *xnode, cast bool) []byte {
	if n.preSet {
		return appendScalar(b, t.str(n.pre), cast)
	}
	return append(b, `""`...)
}

// appendValue writes node id's value as mxj would map it.
func (t *xmlTree) appendValue(b []byte, id int32, cast bool) []byte {
	n := &t.nodes[id]
	if n.leaf() {
		return t.appendLeaf(b, n, cast)
	}
	b = append(b, '{')
	comma := false
	for _, a := range t.attrs[n.attrStart:n.attrEnd] {
		b = appendNameKey(b, comma, t.names[a.key].attr)
		b = appendScalar(b, t.str(a.val), cast)
		comma = true
	}
	if n.preSet || n.postSet {
		text := n.post
		if n.preSet {
			text = n.pre
		}
		b = appendNameKey(b, comma, `"#text":`)
		b = appendScalar(b, t.str(text), cast)
		comma = true
	}
	if !n.repeats {
		// Every child has its own name: no arrays to gather, no search.
		for c := n.first; c >= 0; c = t.nodes[c].next {
			cn := &t.nodes[c]
			b = appendNameKey(b, comma, t.names[cn.key].key)
			comma = true
			if cn.leaf() {
				b = t.appendLeaf(b, cn, cast)
			} else {
				b = t.appendValue(b, c, cast)
			}
		}
		return append(b, '}')
	}
	if n.kids > 32 {
		return append(t.appendGroups(b, n, comma, cast), '}')
	}
	for c := n.first; c >= 0; c = t.nodes[c].next {
		if t.nodes[c].done {
			continue
		}
		name := t.nodes[c].key
		multi := false
		for d := t.nodes[c].next; d >= 0; d = t.nodes[d].next {
			if t.nodes[d].key == name {
				multi = true
				break
			}
		}
		b = appendNameKey(b, comma, t.names[name].key)
		comma = true
		if !multi {
			if cn := &t.nodes[c]; cn.leaf() {
				b = t.appendLeaf(b, cn, cast)
			} else {
				b = t.appendValue(b, c, cast)
			}
			continue
		}
		b = append(b, '[')
		for d, first := c, true; d >= 0; d = t.nodes[d].next {
			if t.nodes[d].key != name {
				continue
			}
			t.nodes[d].done = true
			if !first {
				b = append(b, ',')
			}
			first = false
			if dn := &t.nodes[d]; dn.leaf() {
				b = t.appendLeaf(b, dn, cast)
			} else {
				b = t.appendValue(b, d, cast)
			}
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendGroups writes the children of an element with many of them, grouped
// by name through a map so that hostile input cannot make it quadratic.
func (t *xmlTree) appendGroups(b []byte, n *xnode, comma bool, cast bool) []byte {
	groups := make(map[int32][]int32)
	var order []int32
	for c := n.first; c >= 0; c = t.nodes[c].next {
		name := t.nodes[c].key
		if _, ok := groups[name]; !ok {
			order = append(order, name)
		}
		groups[name] = append(groups[name], c)
	}
	for _, name := range order {
		b = appendNameKey(b, comma, t.names[name].key)
		comma = true
		ids := groups[name]
		if len(ids) == 1 {
			b = t.appendValue(b, ids[0], cast)
			continue
		}
		b = append(b, '[')
		for i, id := range ids {
			if i > 0 {
				b = append(b, ',')
			}
			b = t.appendValue(b, id, cast)
		}
		b = append(b, ']')
	}
	return b
}

// appendNameKey writes a key made ready by newXName, after a comma if needed.
func appendNameKey(b []byte, comma bool, key string) []byte {
	if comma {
		b = append(b, ',')
	}
	return append(b, key...)
}

// appendScalar writes an XML text or attribute value: a string, or with cast
// a number or boolean where mxj's cast would make one.
func appendScalar(b, s []byte, cast bool) []byte {
	if !cast {
		return appendJSONString(b, s)
	}
	switch strings.ToLower(string(s)) {
	case "nan", "inf", "-inf":
		return appendJSONString(b, s)
	}
	if f, err := strconv.ParseFloat(string(s), 64); err == nil {
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return appendJSONString(b, s) // JSON has no such numbers
		}
		return AppendJSONFloat(b, f)
	}
	if len(s) > 0 && len(s) < 6 {
		switch s[0] {
		case 't', 'T', 'f', 'F':
			if v, err := strconv.ParseBool(string(s)); err == nil {
				return strconv.AppendBool(b, v)
			}
		}
	}
	return appendJSONString(b, s)
}
