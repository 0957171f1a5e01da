package parsers

// MaxDepth is the deepest nesting of containers (JSON) or elements (XML)
// that hookgate reads anywhere (SPEC §11); the router bounds its steps by it too.
const MaxDepth = maxDepth

// ErrTooDeep is CheckJSON's answer to a value nested deeper than MaxDepth.
var ErrTooDeep = errDepth()

// CheckJSON reports whether doc is exactly one JSON value (UTF-8, an
// optional BOM, surrounding whitespace) nested at most MaxDepth deep. It is
// the walker the json parser splits with, so it never recurses and runs in
// time linear in len(doc): code that recurses per nesting level (gjson's
// validator and Value) is safe on what it accepts. The error is ErrTooDeep
// or an *Error naming the line, column and reason.
func CheckJSON(doc []byte) error {
	var w jsonWalker
	err := w.runAs(doc, "JSON", pattern{}, dSkip, nil)
	if e, ok := err.(*Error); ok && *e == *ErrTooDeep {
		return ErrTooDeep
	}
	return err
}
