package router

import (
	"slices"
	"unsafe"
)

// itemPaths are the item fields a planned cel expression reads, as a tree
// of keys: node 0 is the item itself, every other node one key below its
// parent. scan finds all of them in one pass over the item's text, where
// one gjson lookup per key would read the text once per field.
//
// A key means what jsonObject.lookup makes of it: the first of duplicate
// keys wins, and the rest of the path is looked for inside that one only
// (never in a later duplicate). Keys are compared unescaped.
type itemPaths struct {
	nodes []pathNode
}

type pathNode struct {
	key  string
	kids []int // indexes in nodes
}

// maxPathNodes bounds the fields one planned expression reads, so that
// one scan's state lives on the stack.
const maxPathNodes = 16

// add returns the node of the path keys, adding what is missing; ok is
// false when the tree is full.
func (p *itemPaths) add(keys []string) (int, bool) {
	if len(p.nodes) == 0 {
		p.nodes = append(p.nodes, pathNode{})
	}
	n := 0
	for _, k := range keys {
		next := -1
		for _, c := range p.nodes[n].kids {
			if p.nodes[c].key == k {
				next = c
				break
			}
		}
		if next < 0 {
			if len(p.nodes) == maxPathNodes {
				return 0, false
			}
			next = len(p.nodes)
			p.nodes = append(p.nodes, pathNode{key: k})
			p.nodes[n].kids = append(p.nodes[n].kids, next)
		}
		n = next
	}
	return n, true
}

// keys is the path of node n, or nil for n < 1.
func (p *itemPaths) keys(n int) []string {
	if n < 1 {
		return nil
	}
	for i, nd := range p.nodes {
		if slices.Contains(nd.kids, n) {
			return append(p.keys(i), p.nodes[n].key)
		}
	}
	return nil
}

// span is where a node's value is in the item: doc[start:end]; end is 0
// when the key is absent (or its parent is not an object).
type span struct{ start, end int }

// scanState is one scan's result and bookkeeping.
type scanState struct {
	vals   [maxPathNodes]span
	taken  [maxPathNodes]bool // the node's key was met (or can no longer be)
	left   int                // nodes not taken yet
	object bool               // the item is an object
}

// scan finds every node's value in doc, which has passed readJSON. On
// other input it stops early or finds nothing, and never reads past doc.
func (p *itemPaths) scan(doc []byte, st *scanState) {
	st.left = len(p.nodes) - 1
	i := skipSpace(doc, 0)
	// gjson.Parse (the slow path's root) takes the item as an object only
	// when it opens with '{'; anything else has no fields.
	if i < len(doc) && doc[i] == '{' {
		st.object = true
		p.object(doc, i+1, 0, st)
	}
}

// object scans the members of the object whose '{' is before i, as node
// n; it returns the index after the object, or where it stopped because
// every node was taken. The loops are written out: a call per key or
// per string cost more than the bytes of the short keys and strings of an
// item.
func (p *itemPaths) object(doc []byte, i, n int, st *scanState) int {
	kids := p.nodes[n].kids
	for i < len(doc) {
		switch c := doc[i]; {
		case c <= ' ' || c == ',':
			i++
			continue
		case c == '}':
			p.settle(n, st)
			return i + 1
		case c != '"':
			return len(doc) // not JSON
		}
		ks := i // the key's opening quote
		escaped := false
		for i++; i < len(doc); i++ {
			c := doc[i]
			if c == '"' {
				break
			}
			if c == '\\' {
				escaped = true
				i++
			}
		}
		if i >= len(doc) {
			return len(doc)
		}
		kid := p.match(kids, doc[ks:i+1], escaped, st)
		for i++; i < len(doc) && (doc[i] <= ' ' || doc[i] == ':'); i++ {
		}
		vs := i
		if kid < 0 {
			if i < len(doc) && doc[i] == '"' {
				for i++; i < len(doc); i++ {
					c := doc[i]
					if c > '\\' {
						continue
					}
					if c == '"' {
						break
					}
					if c == '\\' {
						i++
					}
				}
				i++
			} else {
				i = skipValue(doc, i)
			}
			continue
		}
		st.taken[kid] = true
		st.left--
		if i < len(doc) && doc[i] == '{' && len(p.nodes[kid].kids) > 0 {
			i = p.object(doc, i+1, kid, st)
		} else {
			i = skipValue(doc, i)
			p.settle(kid, st)
		}
		st.vals[kid] = span{vs, min(i, len(doc))}
		if st.left == 0 {
			return i
		}
	}
	return len(doc)
}

// match is the one of kids that the key token tok (quotes included) names,
// if its key was not met before in this object; else -1.
func (p *itemPaths) match(kids []int, tok []byte, escaped bool, st *scanState) int {
	inner := tok[1 : len(tok)-1]
	var key string
	if escaped {
		key = unquote(tok) // gjson's unescaping, as the slow path's lookup
	} else {
		key = bytesString(inner)
	}
	for _, c := range kids {
		if p.nodes[c].key == key {
			if st.taken[c] {
				return -1
			}
			return c
		}
	}
	return -1
}

// settle takes every descendant of n not taken yet: the object n was is
// over (or n is no object), so they are absent.
func (p *itemPaths) settle(n int, st *scanState) {
	for _, c := range p.nodes[n].kids {
		if !st.taken[c] {
			st.taken[c] = true
			st.left--
		}
		p.settle(c, st)
	}
}

func skipSpace(doc []byte, i int) int {
	for i < len(doc) && doc[i] <= ' ' {
		i++
	}
	return i
}

// skipValue is the index after the value at i. Plain byte loops, the
// strings of a container skipped inline: on a 1 KiB item that measured
// faster than a call per string, than a table of the bytes that matter,
// and no slower than eight bytes at a time (an item's strings are short).
func skipValue(doc []byte, i int) int {
	if i >= len(doc) {
		return i
	}
	switch doc[i] {
	case '"':
		return stringEnd(doc, i)
	case '{', '[':
		depth := 0
		for ; i < len(doc); i++ {
			switch doc[i] {
			case '"':
				for i++; i < len(doc); i++ {
					c := doc[i]
					if c > '\\' {
						continue
					}
					if c == '"' {
						break
					}
					if c == '\\' {
						i++
					}
				}
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(doc)
	}
	// A number or a literal ends where gjson's parseNumber ends it.
	for i < len(doc) && doc[i] > ' ' && doc[i] != ',' && doc[i] != ']' && doc[i] != '}' {
		i++
	}
	return i
}

// bytesString is b as a string without a copy; the caller keeps it no
// longer than b stays unchanged (the task body is never written to).
func bytesString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
