package router

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// errOutputFull stops the encoder once its output passes the limit.
var errOutputFull = errors.New("output full")

// encodeXML writes a JSON item as XML under root, in mxj's convention (the
// inverse of how the xml parser reads XML): keys are elements, "-name" keys
// with a scalar value attributes, "#text" the text beside them, arrays
// repeated siblings. An array item becomes <item> children of root, a
// scalar root's text. The output is at most limit bytes.
//
// mxj's own Map.Xml is not used: it sorts keys (breaking xs:sequence schemas
// and the YAML order of transform steps), re-formats numbers through float64
// and escapes &, < and > only when a package-global switch is set. This
// writes keys in document order, numbers as written, and always escapes.
//
// It reads the item in two linear passes over its tokens, without
// recursion: the first collects every object's attributes (which may come
// after its children but belong in its start tag), the second writes. A
// walk that rescans each object to find its attributes would cost the
// item's size times its depth: seconds for a deep 16MiB task.
func encodeXML(item []byte, root string, limit int) ([]byte, error) {
	item, err := readJSON("format xml", item)
	if err != nil {
		return nil, err
	}
	attrs := collectAttributes(item)
	e := &xmlEncoder{doc: item, attrs: attrs, limit: limit}
	if err := e.encode(root); err != nil {
		if errors.Is(err, errOutputFull) {
			return nil, &unreadable{step: "format xml", reason: tooLarge(limit)}
		}
		return nil, &unreadable{step: "format xml", reason: err.Error()}
	}
	return e.b.Bytes(), nil
}

// attribute is a "-name": scalar member of the obj-th object (in document
// order); key and val are where their tokens start.
type attribute struct{ obj, key, val int32 }

// collectAttributes is every attribute of item, grouped by object in
// document order.
func collectAttributes(item []byte) []attribute {
	var out []attribute
	var objs []int32 // the object index of each open container, -1 for arrays
	next := int32(0)
	key := int32(-1) // the pending "-name" key of the innermost object
	_ = scanJSON(item, func(ev jsonEvent) error {
		switch ev.kind {
		case '{':
			key = -1
			objs = append(objs, next)
			next++
		case '[':
			key = -1
			objs = append(objs, -1)
		case '}', ']':
			objs = objs[:len(objs)-1]
		case 'k':
			key = -1
			if strings.HasPrefix(unquote(item[ev.start:ev.end]), "-") {
				key = int32(ev.start)
			}
		case 's':
			if key >= 0 && len(objs) > 0 {
				out = append(out, attribute{obj: objs[len(objs)-1], key: key, val: int32(ev.start)})
			}
			key = -1
		}
		return nil
	})
	// Nested objects interleave their attributes with their parent's.
	slices.SortStableFunc(out, func(a, b attribute) int { return cmp.Compare(a.obj, b.obj) })
	return out
}

// xmlFrame is an open container: for an object, the element it writes; for
// an array, the name each of its elements takes.
type xmlFrame struct {
	array  bool
	name   string
	opened bool // the object's start tag is closed by ">"
}

type xmlEncoder struct {
	doc   []byte
	attrs []attribute
	limit int
	b     bytes.Buffer

	frames  []xmlFrame
	objects int32  // objects started so far
	name    string // the element name of the next value
	skip    bool   // the next value is an attribute, already written
	rawText int    // depth of a "#text" container written as its JSON text; 0 none
	rawFrom int
}

func (e *xmlEncoder) encode(root string) error {
	if !xmlName(root) {
		return fmt.Errorf("key %q is not a valid XML element name", root)
	}
	first := firstToken(e.doc)
	if first == '[' {
		// An array item: its elements are <item> children of root.
		e.b.WriteString("<" + root + ">")
		e.name = "item"
		if err := scanJSON(e.doc, e.event); err != nil {
			return err
		}
		e.b.WriteString("</" + root + ">")
		return e.full()
	}
	e.name = root
	return scanJSON(e.doc, e.event)
}

func firstToken(doc []byte) byte {
	for _, c := range doc {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return c
		}
	}
	return 0
}

func (e *xmlEncoder) full() error {
	if e.b.Len() > e.limit {
		return errOutputFull
	}
	return nil
}

func (e *xmlEncoder) event(ev jsonEvent) error {
	if e.rawText > 0 {
		switch ev.kind {
		case '{', '[':
			e.rawText++
		case '}', ']':
			if e.rawText--; e.rawText == 0 {
				_ = xml.EscapeText(&e.b, e.doc[e.rawFrom:ev.end])
				return e.full()
			}
		}
		return nil
	}
	switch ev.kind {
	case 'k':
		return e.key(unquote(e.doc[ev.start:ev.end]), ev.start)
	case '}':
		f := e.pop()
		if f.opened {
			e.b.WriteString("</" + f.name + ">")
		} else {
			e.b.WriteString("/>")
		}
		return e.full()
	case ']':
		e.pop()
		return nil
	}
	// A value: a member of the innermost object, an array element or the root.
	if e.skip {
		e.skip = false
		return nil
	}
	name := e.name
	if n := len(e.frames); n > 0 && e.frames[n-1].array {
		name = e.frames[n-1].name
	}
	if name == "#text" {
		if ev.kind == 's' {
			e.text(e.doc[ev.start:ev.end])
			return e.full()
		}
		e.rawText, e.rawFrom = 1, ev.start
		return nil
	}
	if !xmlName(name) {
		return fmt.Errorf("key %q is not a valid XML element name", name)
	}
	switch ev.kind {
	case '[':
		e.frames = append(e.frames, xmlFrame{array: true, name: name})
		return nil
	case '{':
		e.b.WriteString("<" + name)
		if err := e.writeAttributes(e.objects); err != nil {
			return err
		}
		e.objects++
		e.frames = append(e.frames, xmlFrame{name: name})
		return e.full()
	}
	tok := e.doc[ev.start:ev.end]
	e.b.WriteByte('<')
	e.b.WriteString(name)
	if tok[0] == 'n' { // null
		e.b.WriteString("/>")
	} else {
		e.b.WriteByte('>')
		e.text(tok)
		e.b.WriteString("</")
		e.b.WriteString(name)
		e.b.WriteByte('>')
	}
	return e.full()
}

// key begins a member of the innermost object: an attribute (written with
// the start tag) is skipped, anything else closes the start tag first.
func (e *xmlEncoder) key(k string, at int) error {
	if strings.HasPrefix(k, "-") && !startsContainer(e.doc, at) {
		e.skip = true
		return nil
	}
	f := &e.frames[len(e.frames)-1]
	if !f.opened {
		e.b.WriteByte('>')
		f.opened = true
	}
	e.name = k
	return nil
}

// startsContainer reports whether the value after the key token at i is an
// object or an array.
func startsContainer(doc []byte, i int) bool {
	for j := stringEnd(doc, i); j < len(doc); j++ {
		switch doc[j] {
		case ' ', '\t', '\r', '\n', ':':
		case '{', '[':
			return true
		default:
			return false
		}
	}
	return false
}

func (e *xmlEncoder) pop() xmlFrame {
	f := e.frames[len(e.frames)-1]
	e.frames = e.frames[:len(e.frames)-1]
	return f
}

// writeAttributes writes the attributes of the obj-th object, which come
// first in e.attrs (they are sorted by object and objects start in order).
func (e *xmlEncoder) writeAttributes(obj int32) error {
	for len(e.attrs) > 0 && e.attrs[0].obj <= obj {
		a := e.attrs[0]
		e.attrs = e.attrs[1:]
		if a.obj < obj {
			continue
		}
		key := unquote(e.doc[a.key:stringEnd(e.doc, int(a.key))])
		name := key[1:]
		if !xmlName(name) {
			return fmt.Errorf("key %q is not a valid XML attribute name", key)
		}
		end := int(a.val) + 1
		if e.doc[a.val] == '"' {
			end = stringEnd(e.doc, int(a.val))
		} else {
			for end < len(e.doc) && !delimiter(e.doc[end]) {
				end++
			}
		}
		e.b.WriteString(" " + name + `="`)
		e.text(e.doc[a.val:end])
		e.b.WriteByte('"')
		if err := e.full(); err != nil {
			return err
		}
	}
	return nil
}

// text writes a scalar token escaped: a string's value, numbers and
// booleans as written in JSON, null as nothing.
func (e *xmlEncoder) text(tok []byte) {
	switch tok[0] {
	case '"':
		inner := tok[1 : len(tok)-1]
		if plain(inner) {
			e.b.Write(inner)
			return
		}
		_ = xml.EscapeText(&e.b, []byte(unquote(tok))) // writes to a bytes.Buffer cannot fail
	case 'n':
	default:
		e.b.Write(tok) // a number, true or false: nothing to escape
	}
}

// plain reports whether s is printable ASCII that neither JSON nor XML
// escapes, so that it is written as it is.
func plain(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c >= 0x7f || c == '\\' || c == '"' || c == '&' || c == '<' || c == '>' || c == '\'' {
			return false
		}
	}
	return true
}

// xmlName reports whether s is usable as an element or attribute name: an
// XML 1.0 Name restricted to letters, digits and _ - . with at most one
// colon, between two such names (a namespace-well-formed QName; "a:b:c" or
// "::" is refused by namespace-aware readers, Go's encoding/xml included).
func xmlName(s string) bool {
	prefix, local, qualified := strings.Cut(s, ":")
	if qualified {
		return ncName(prefix) && ncName(local)
	}
	return ncName(s)
}

// ncName reports whether s is a name without a colon.
func ncName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || unicode.IsLetter(r):
		case i > 0 && (r == '-' || r == '.' || unicode.IsDigit(r)):
		default:
			return false
		}
	}
	return true
}
