package router

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"unicode"

	"github.com/tidwall/gjson"
)

// maxXMLDepth bounds nesting, as the inbound parsers do (SPEC §3.1).
const maxXMLDepth = 512

// encodeXML writes a JSON item as XML under root, in mxj's convention (the
// inverse of how the xml parser reads XML): keys are elements, "-name" keys
// attributes, "#text" the text beside them, arrays repeated siblings. An
// array item becomes <item> children of root, a scalar root's text.
//
// mxj's own Map.Xml is not used: it sorts keys (breaking xs:sequence schemas
// and the YAML order of transform steps), re-formats numbers through float64
// and escapes &, < and > only when a package-global switch is set. This
// writes keys in document order, numbers as written, and always escapes.
func encodeXML(item []byte, root string) ([]byte, error) {
	if !gjson.ValidBytes(item) {
		return nil, fmt.Errorf("format xml: the item is not valid JSON")
	}
	v := gjson.ParseBytes(item)
	var b bytes.Buffer
	var err error
	if v.IsArray() {
		err = writeElement(&b, root, gjson.Result{Type: gjson.JSON, Raw: `{"item":` + v.Raw + `}`}, 0)
	} else {
		err = writeElement(&b, root, v, 0)
	}
	if err != nil {
		return nil, fmt.Errorf("format xml: %w", err)
	}
	return b.Bytes(), nil
}

func writeElement(b *bytes.Buffer, name string, v gjson.Result, depth int) error {
	if depth > maxXMLDepth {
		return fmt.Errorf("nesting deeper than %d", maxXMLDepth)
	}
	if !xmlName(name) {
		return fmt.Errorf("key %q is not a valid XML element name", name)
	}
	switch {
	case v.IsArray():
		var err error
		v.ForEach(func(_, el gjson.Result) bool {
			err = writeElement(b, name, el, depth+1)
			return err == nil
		})
		return err
	case v.IsObject():
		return writeObject(b, name, v, depth)
	case v.Type == gjson.Null:
		b.WriteString("<" + name + "/>")
		return nil
	default:
		b.WriteString("<" + name + ">")
		writeText(b, v)
		b.WriteString("</" + name + ">")
		return nil
	}
}

func writeObject(b *bytes.Buffer, name string, v gjson.Result, depth int) error {
	b.WriteString("<" + name)
	var err error
	children := false
	v.ForEach(func(k, val gjson.Result) bool {
		key := k.String()
		attr, isAttr := strings.CutPrefix(key, "-")
		switch {
		case isAttr && !val.IsObject() && !val.IsArray():
			if !xmlName(attr) {
				err = fmt.Errorf("key %q is not a valid XML attribute name", key)
				return false
			}
			b.WriteString(" " + attr + `="`)
			writeText(b, val)
			b.WriteByte('"')
		default:
			children = true
		}
		return true
	})
	if err != nil {
		return err
	}
	if !children {
		b.WriteString("/>")
		return nil
	}
	b.WriteByte('>')
	v.ForEach(func(k, val gjson.Result) bool {
		key := k.String()
		switch {
		case key == "#text":
			writeText(b, val)
		case strings.HasPrefix(key, "-") && !val.IsObject() && !val.IsArray():
		default:
			err = writeElement(b, key, val, depth+1)
		}
		return err == nil
	})
	if err != nil {
		return err
	}
	b.WriteString("</" + name + ">")
	return nil
}

// writeText writes a scalar escaped; numbers and booleans as written in JSON.
func writeText(b *bytes.Buffer, v gjson.Result) {
	s := v.Str
	if v.Type != gjson.String {
		s = v.Raw
		if v.Type == gjson.Null {
			s = ""
		}
	}
	_ = xml.EscapeText(b, []byte(s)) // writes to a bytes.Buffer cannot fail
}

// xmlName reports whether s is usable as an element or attribute name
// (an XML 1.0 Name, restricted to letters, digits and _ : - .).
func xmlName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || r == ':' || unicode.IsLetter(r):
		case i > 0 && (r == '-' || r == '.' || unicode.IsDigit(r)):
		default:
			return false
		}
	}
	return true
}
