package configs

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// maxNodes bounds the work of walking one document, aliases included, so
// that an alias bomb ("billion laughs") is an error and not a hang.
const maxNodes = 1_000_000

// decoder walks one yaml.Node tree strictly: every key must be known to the
// section's field table, every value must have the right kind, and every
// problem is recorded with the line it is on. It remembers the line of every
// path it saw, so that validation after decoding can point at lines too.
type decoder struct {
	file     string
	lookup   lookupFunc
	problems Problems
	lines    map[string]int
	visited  int
	tooLarge bool
	// hide is above 0 while the value of a secret key is decoded: problems
	// then describe the value without quoting it (SPEC §11).
	hide int
	// secrets collects the values of secret keys and the credentials of
	// URLs, for Load to mask in every problem, including problems about
	// other keys.
	secrets []string
	// tables, when not nil, collects every field table reached, by path with
	// list indexes removed; the reference test checks REFERENCE.md against it.
	tables map[string]fields
}

func newDecoder(file string, lookup lookupFunc) *decoder {
	return &decoder{file: file, lookup: lookup, lines: map[string]int{}}
}

// setter decodes one value node found at path.
type setter func(n *yaml.Node, path string)

// field is one row of a section's spec: a key and how to decode its value.
type field struct {
	key string
	set setter
}

// fields is a section's spec. The allowed keys in messages come from it, in
// the order written, so that they read like the documentation.
type fields []field

func (fs fields) keys() string {
	ks := make([]string, len(fs))
	for i, f := range fs {
		ks[i] = f.key
	}
	return strings.Join(ks, ", ")
}

func (fs fields) find(key string) (field, bool) {
	for _, f := range fs {
		if f.key == key {
			return f, true
		}
	}
	return field{}, false
}

func (d *decoder) errorf(line int, path, format string, args ...any) {
	if d.tooLarge {
		return // after the node budget is spent, the rest is noise
	}
	d.problems = append(d.problems, Problem{File: d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// schemaPath removes list indexes: webhooks[0].pre_processors[1] becomes
// webhooks.pre_processors.
func schemaPath(path string) string {
	var b strings.Builder
	skip := false
	for _, c := range path {
		switch {
		case c == '[':
			skip = true
		case c == ']':
			skip = false
		case !skip:
			b.WriteRune(c)
		}
	}
	return b.String()
}

var nullNode = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}

// resolve follows aliases and counts nodes against maxNodes.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	d.visited++
	if n == nil || d.visited > maxNodes {
		if n != nil && !d.tooLarge {
			d.errorf(0, "", "document too large or too many aliases (more than %d nodes)", maxNodes)
			d.tooLarge = true
		}
		return nullNode
	}
	return n
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

func (d *decoder) kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.DocumentNode:
		return "a document"
	}
	if isNull(n) {
		return "nothing"
	}
	if d.hide > 0 {
		return "a single value (not shown: it is a secret)"
	}
	return fmt.Sprintf("%q", clip(n.Value))
}

type pair struct {
	key   string
	line  int
	value *yaml.Node
}

// pairs returns a mapping's entries with YAML merge keys (<<: *base) applied:
// merged entries first, explicit ones overriding them. Repeated keys are errors.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	var merged, own []pair
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := d.resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k.Line, path, "keys must be strings; got %s", d.kindName(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			merged = append(merged, d.mergePairs(v, path)...)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.errorf(k.Line, join(path, k.Value), "duplicate key; first at line %d", first)
			continue
		}
		seen[k.Value] = k.Line
		own = append(own, pair{k.Value, k.Line, v})
	}
	out := make([]pair, 0, len(merged)+len(own))
	for _, p := range merged {
		if _, overridden := seen[p.key]; !overridden {
			seen[p.key] = p.line
			out = append(out, p)
		}
	}
	return append(out, own...)
}

func (d *decoder) mergePairs(v *yaml.Node, path string) []pair {
	v = d.resolve(v)
	switch v.Kind {
	case yaml.MappingNode:
		return d.pairs(v, path)
	case yaml.SequenceNode:
		var out []pair
		for _, e := range v.Content {
			out = append(out, d.mergePairs(e, path)...)
		}
		return out
	}
	d.errorf(v.Line, join(path, "<<"), "a merge key takes a map or a list of maps; got %s", d.kindName(v))
	return nil
}

// mapping checks that n is a map (null counts as empty) and returns its entries.
func (d *decoder) mapping(n *yaml.Node, path string) ([]pair, bool) {
	n = d.resolve(n)
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, path, "must be a map; got %s", d.kindName(n))
		return nil, false
	}
	return d.pairs(n, path), true
}

// object decodes a map whose keys must all be in fs.
func (d *decoder) object(n *yaml.Node, path string, fs fields) {
	if d.tables != nil {
		d.tables[schemaPath(path)] = fs
	}
	ps, _ := d.mapping(n, path)
	for _, p := range ps {
		kp := join(path, p.key)
		d.lines[kp] = p.line
		f, ok := fs.find(p.key)
		if !ok && path == "" && strings.HasPrefix(p.key, "x-") {
			continue // top-level x- keys hold YAML anchors, as in docker compose
		}
		if !ok {
			d.errorf(p.line, kp, "unknown key; allowed: %s", fs.keys())
			continue
		}
		f.set(p.value, kp)
	}
}

// oneOf decodes a one-key map such as a pre-processor or a transform step.
func (d *decoder) oneOf(n *yaml.Node, path string, fs fields) {
	n = d.resolve(n)
	ps, ok := d.mapping(n, path)
	if !ok {
		return
	}
	switch {
	case len(ps) == 0:
		d.errorf(n.Line, path, "empty entry; use one of %s", fs.keys())
		return
	case len(ps) > 1:
		ks := make([]string, len(ps))
		for i, p := range ps {
			ks[i] = p.key
		}
		d.errorf(n.Line, path, "has %d keys (%s); each entry takes exactly one of %s, so write one entry per key",
			len(ps), strings.Join(ks, ", "), fs.keys())
	}
	d.object(n, path, fs)
}

// list decodes a sequence (null counts as empty), calling each per element.
func (d *decoder) list(n *yaml.Node, path string, each func(i int, n *yaml.Node, path string)) {
	n = d.resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n.Line, path, "must be a list; got %s", d.kindName(n))
		return
	}
	for i, e := range n.Content {
		ep := index(path, i)
		d.lines[ep] = d.resolve(e).Line
		each(i, e, ep)
	}
}

// scalar returns a scalar's text with ${ENV} expanded; ok is false for null
// (keep the default) and for errors, which it records.
func (d *decoder) scalar(n *yaml.Node, path, want string) (string, bool) {
	n = d.resolve(n)
	if isNull(n) {
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		d.errorf(n.Line, path, "must be %s; got %s", want, d.kindName(n))
		return "", false
	}
	s, err := expandEnv(n.Value, d.lookup)
	if err != nil {
		msg := err.msg
		if d.hide > 0 {
			msg = err.secret
		}
		d.errorf(n.Line, path, "%s", msg)
		return "", false
	}
	if strings.Contains(s, "@") {
		// Read as one URL and as a list: a password may hold a comma.
		d.secrets = append(d.secrets, urlSecrets(s)...)
		d.secrets = append(d.secrets, urlListSecrets(s)...)
	}
	return s, true
}

// convert decodes a scalar with parse, reporting parse errors on its line.
func convert[T any](d *decoder, p *T, want string, parse func(string) (T, error)) setter {
	return func(n *yaml.Node, path string) {
		s, ok := d.scalar(n, path, want)
		if !ok {
			return
		}
		v, err := parse(s)
		if err != nil {
			d.errorf(d.resolve(n).Line, path, "%v", err)
			return
		}
		*p = v
	}
}

func (d *decoder) str(p *string) setter {
	return convert(d, p, "a string", func(s string) (string, error) { return s, nil })
}

// secret decodes the value of a secret key: no problem about it quotes it,
// and Load masks it wherever another problem might.
func (d *decoder) secret(p *string) setter {
	set := d.str(p)
	return func(n *yaml.Node, path string) {
		d.hidden(func() { set(n, path) })
		d.secrets = append(d.secrets, *p)
	}
}

// secretList decodes a list of secrets (secrets:, passwords:), as secret.
func (d *decoder) secretList(p *[]string) setter {
	set := d.strs(p)
	return func(n *yaml.Node, path string) {
		d.hidden(func() { set(n, path) })
		d.secrets = append(d.secrets, *p...)
	}
}

func (d *decoder) hidden(decode func()) {
	d.hide++
	defer func() { d.hide-- }()
	decode()
}

// strPtr decodes a filter operand; unlike other scalars, null is a value
// here (the empty string, which is what gjson gives for a JSON null).
func (d *decoder) strPtr(p **string) setter {
	set := convert(d, p, "a string", func(s string) (*string, error) { return &s, nil })
	return func(n *yaml.Node, path string) {
		if isNull(d.resolve(n)) {
			*p = new(string)
			return
		}
		set(n, path)
	}
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q; use true or false", clip(s))
}

func (d *decoder) boolean(p *bool) setter { return convert(d, p, "true or false", parseBool) }

func (d *decoder) boolPtr(p **bool) setter {
	return convert(d, p, "true or false", func(s string) (*bool, error) {
		b, err := parseBool(s)
		return &b, err
	})
}

func (d *decoder) integer(p *int) setter {
	return convert(d, p, "a whole number", func(s string) (int, error) {
		v, err := strconv.Atoi(s)
		if err != nil {
			return 0, fmt.Errorf("invalid whole number %q; write digits only (100000)", clip(s))
		}
		return v, nil
	})
}

func (d *decoder) number(p **float64) setter {
	return convert(d, p, "a number", func(s string) (*float64, error) {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid number %q; write a number such as 10 or 2.5", clip(s))
		}
		return &v, nil
	})
}

// float decodes a number into a plain float64, for keys whose default
// Default sets (tracing.sample_ratio).
func (d *decoder) float(p *float64) setter {
	return convert(d, p, "a number", func(s string) (float64, error) {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid number %q; write a number such as 1 or 0.25", clip(s))
		}
		return v, nil
	})
}

func (d *decoder) duration(p *time.Duration) setter {
	return convert(d, p, "a duration", func(s string) (time.Duration, error) {
		v, err := time.ParseDuration(s)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("invalid duration %q; use a Go duration such as 30s, 15m or 168h", clip(s))
		}
		return v, nil
	})
}

func (d *decoder) size(p *Size) setter { return convert(d, p, "a size", ParseSize) }

// sizeOrDefault is a size where "" keeps the default (0), as SPEC §4 writes
// max_items_bytes: "".
func (d *decoder) sizeOrDefault(p *Size) setter {
	return convert(d, p, "a size", func(s string) (Size, error) {
		if s == "" {
			return 0, nil
		}
		return ParseSize(s)
	})
}

func (d *decoder) rate(p *Rate) setter { return convert(d, p, "a rate", ParseRate) }

// strs decodes a list of strings.
func (d *decoder) strs(p *[]string) setter {
	return func(n *yaml.Node, path string) {
		out := []string{}
		d.list(n, path, func(_ int, e *yaml.Node, ep string) {
			if s, ok := d.scalar(e, ep, "a string"); ok {
				out = append(out, s)
			}
		})
		*p = out
	}
}

// keyValues decodes a map of strings, keeping the order written.
func (d *decoder) keyValues(p *[]KeyValue) setter { return d.keyValuesHiding(p, nil) }

// headers decodes outgoing headers; the values of those named like
// credentials (X-Api-Key, Authorization) are secrets.
func (d *decoder) headers(p *[]KeyValue) setter { return d.keyValuesHiding(p, SecretHeader) }

// keyValuesHiding decodes a map of strings; secret(key) says which values are secrets.
func (d *decoder) keyValuesHiding(p *[]KeyValue, secret func(key string) bool) setter {
	return entries(d, p, func(key string, v *yaml.Node, path string) (KeyValue, bool) {
		var s string
		var ok bool
		if secret != nil && secret(key) {
			d.hidden(func() { s, ok = d.scalar(v, path, "a string") })
			d.secrets = append(d.secrets, s)
		} else {
			s, ok = d.scalar(v, path, "a string")
		}
		if !ok && isNull(d.resolve(v)) {
			ok = true // {key: } means an empty value
		}
		return KeyValue{Key: key, Value: s}, ok
	})
}

// entries decodes a mapping into one T a key, in the order written, and
// records each key's line; entry decodes the value at path, false to
// leave the key out.
func entries[T any](d *decoder, p *[]T, entry func(key string, v *yaml.Node, path string) (T, bool)) setter {
	return func(n *yaml.Node, path string) {
		ps, _ := d.mapping(n, path)
		out := make([]T, 0, len(ps))
		for _, e := range ps {
			kp := join(path, e.key)
			d.lines[kp] = e.line
			if t, ok := entry(e.key, e.value, kp); ok {
				out = append(out, t)
			}
		}
		*p = out
	}
}
