package configs

import (
	"bytes"
	"encoding/json"

	"go.yaml.in/yaml/v3"
)

// keyJSON decodes a map of constants (transform set:), keeping key order and
// holding every value as JSON. Strings are ${ENV}-expanded like any other.
func (d *decoder) keyJSON(p *[]KeyJSON) setter {
	return entries(d, p, func(key string, v *yaml.Node, path string) (KeyJSON, bool) {
		var b bytes.Buffer
		ok := d.writeJSON(&b, v, path)
		return KeyJSON{Key: key, JSON: b.Bytes()}, ok
	})
}

// writeJSON converts a YAML value to JSON; maps keep the order written.
func (d *decoder) writeJSON(b *bytes.Buffer, n *yaml.Node, path string) bool {
	n = d.resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		b.WriteByte('{')
		for i, e := range d.pairs(n, path) {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(e.key)
			b.Write(k)
			b.WriteByte(':')
			if !d.writeJSON(b, e.value, join(path, e.key)) {
				return false
			}
		}
		b.WriteByte('}')
		return true
	case yaml.SequenceNode:
		b.WriteByte('[')
		for i, e := range n.Content {
			if i > 0 {
				b.WriteByte(',')
			}
			if !d.writeJSON(b, e, index(path, i)) {
				return false
			}
		}
		b.WriteByte(']')
		return true
	case yaml.ScalarNode:
		var v any
		switch n.ShortTag() {
		case "!!null":
			b.WriteString("null")
			return true
		case "!!str":
			s, ok := d.scalar(n, path, "a value")
			if !ok {
				return false
			}
			v = s
		default:
			if err := n.Decode(&v); err != nil {
				d.errorf(n.Line, path, "invalid value %q: %v", clip(n.Value), err)
				return false
			}
		}
		j, err := json.Marshal(v)
		if err != nil {
			d.errorf(n.Line, path, "%q cannot be written as JSON; quote it to make it a string", clip(n.Value))
			return false
		}
		b.Write(j)
		return true
	}
	d.errorf(n.Line, path, "unsupported value %s", d.kindName(n))
	return false
}
