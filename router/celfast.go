package router

import (
	"math"
	"slices"
	"strconv"
	"strings"

	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/types"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
)

// A cel filter made only of &&, ||, ! and comparisons of a field with
// constants (item.a.b == "x", item.c in ["a", "b"], double(item.d) > 1.0,
// headers["X"] == "y", webhook == "w", has(item.a.b)) is evaluated here,
// without cel-go, when its cost is proven small (compileCEL):
// the item's fields are found in one pass (itemPaths.scan), the
// comparisons made natively. A comparison decides only when its operands
// are of the types it expects (a string compared with a string, a number
// with a number that is not NaN); any other case, where cel-go could fail
// or apply a rule of its own, leaves it undecided, and when the result
// depends on an undecided comparison the filter asks cel-go, whose answer
// and error stand. So the fast path only ever answers as cel-go would:
// false && error is false in CEL, and it is false here too.

// fastPlan is a planned expression.
type fastPlan struct {
	root  fastNode
	paths itemPaths // the item fields the comparisons read; none when empty
}

// verdict is a comparison's outcome: decided, or cel-go's to say.
type verdict uint8

const (
	undecided verdict = iota
	isFalse
	isTrue
)

type fastNode struct {
	op   byte // '&', '|', '!', or 0 for a comparison
	kids []fastNode
	cmp  fastCmp
}

// fastCmp compares one operand with a constant.
type fastCmp struct {
	src    byte   // 'i' an item field, 'h' a header, 'w' webhook, 'n' incoming
	node   int    // the item field's node in fastPlan.paths
	header string // the header's name
	double bool   // the operand is converted with double() first

	op    string // an operators name, '@in' with list, or "" for the operand itself (a bool)
	kind  byte   // the constant's kind: 's' string, 'd' number, 'b' bool, 'n' null
	str   string
	num   float64
	yes   bool     // the bool constant
	list  []string // the strings of an in list (op @in)
	flip  bool     // the constant is the left operand
	truth bool     // op is "": the operand must be a bool and is the verdict

	// has(): the verdict is whether the operand exists, when its parent
	// (node parent of paths; -1 for the item itself) is an object.
	presence bool
	parent   int
}

// maxExactInt is the largest integer every smaller one of which a float64
// holds exactly: an int constant up to it compares with a double as the
// float64 it converts to, as cel-go's cross-type comparison does.
const maxExactInt = 1 << 53

// planFast plans e, or returns nil when e is not of the planned kind.
func planFast(e celast.Expr) *fastPlan {
	p := &fastPlan{}
	root, ok := p.node(e, 0)
	if !ok {
		return nil
	}
	p.root = root
	return p
}

// maxFastDepth bounds the recursion of planning and evaluating; cel-go's
// parser bounds nesting too, this keeps it obvious.
const maxFastDepth = 32

func (p *fastPlan) node(e celast.Expr, depth int) (fastNode, bool) {
	if depth > maxFastDepth {
		return fastNode{}, false
	}
	if e.Kind() == celast.CallKind {
		c := e.AsCall()
		if !c.IsMemberFunction() {
			switch c.FunctionName() {
			case operators.LogicalAnd, operators.LogicalOr, operators.LogicalNot:
				n := fastNode{op: '!'}
				switch c.FunctionName() {
				case operators.LogicalAnd:
					n.op = '&'
				case operators.LogicalOr:
					n.op = '|'
				}
				for _, a := range c.Args() {
					k, ok := p.node(a, depth+1)
					if !ok {
						return fastNode{}, false
					}
					n.kids = append(n.kids, k)
				}
				return n, len(n.kids) > 0
			}
		}
	}
	cmp, ok := p.comparison(e)
	return fastNode{cmp: cmp}, ok
}

// comparison plans a comparison of an operand with a constant, or a bool
// operand alone.
func (p *fastPlan) comparison(e celast.Expr) (fastCmp, bool) {
	if e.Kind() == celast.SelectKind && e.AsSelect().IsTestOnly() {
		return p.presence(e.AsSelect().Operand(), e.AsSelect().FieldName())
	}
	if e.Kind() != celast.CallKind {
		var c fastCmp
		if !p.operand(e, &c) || c.double {
			return fastCmp{}, false
		}
		c.truth = true
		return c, true
	}
	call := e.AsCall()
	args := call.Args()
	if call.IsMemberFunction() || len(args) != 2 {
		return fastCmp{}, false
	}
	var c fastCmp
	c.op = call.FunctionName()
	switch c.op {
	case operators.In:
		// "X" in headers. ("x" in item is never planned: in on a dyn
		// may walk a long list, so its cost is tracked.)
		if key, ok := literal(args[0]).(types.String); ok && args[1].Kind() == celast.IdentKind && args[1].AsIdent() == configs.CELHeaders {
			return p.presence(args[1], string(key))
		}
		if !p.operand(args[0], &c) || c.double || args[1].Kind() != celast.ListKind {
			return fastCmp{}, false
		}
		l := args[1].AsList()
		if len(l.OptionalIndices()) > 0 {
			return fastCmp{}, false
		}
		for _, el := range l.Elements() {
			s, ok := literal(el).(types.String)
			if !ok {
				return fastCmp{}, false
			}
			c.list = append(c.list, string(s))
		}
		c.kind = 's'
		return c, true
	case operators.Equals, operators.NotEquals, operators.Less, operators.LessEquals, operators.Greater, operators.GreaterEquals:
	default:
		return fastCmp{}, false
	}
	lit := literal(args[1])
	operand := args[0]
	if lit == nil {
		lit, operand, c.flip = literal(args[0]), args[1], true
	}
	if lit == nil || !p.operand(operand, &c) {
		return fastCmp{}, false
	}
	ordering := c.op != operators.Equals && c.op != operators.NotEquals
	switch v := lit.(type) {
	case types.String:
		c.kind, c.str = 's', string(v)
	case types.Double:
		if math.IsNaN(float64(v)) {
			return fastCmp{}, false
		}
		c.kind, c.num = 'd', float64(v)
	case types.Int:
		if v > maxExactInt || v < -maxExactInt {
			return fastCmp{}, false
		}
		c.kind, c.num = 'd', float64(v)
	case types.Bool:
		c.kind, c.yes = 'b', bool(v)
	case types.Null:
		c.kind = 'n'
	default:
		return fastCmp{}, false
	}
	if ordering && c.kind != 's' && c.kind != 'd' {
		return fastCmp{}, false
	}
	if c.double && c.kind != 'd' {
		return fastCmp{}, false
	}
	return c, true
}

// presence plans has(operand.field), the operand an item field, the item
// or headers, and "field" in headers: whether the map has the key.
func (p *fastPlan) presence(e celast.Expr, field string) (fastCmp, bool) {
	c := fastCmp{presence: true, parent: -1}
	if e.Kind() == celast.IdentKind {
		switch e.AsIdent() {
		case configs.CELHeaders:
			c.src, c.header = 'h', field
			return c, true
		case configs.CELItem:
		default:
			return fastCmp{}, false
		}
	} else if !p.operand(e, &c) || c.src != 'i' || c.double {
		return fastCmp{}, false
	} else {
		c.parent = c.node
	}
	if !plainKey(field) {
		return fastCmp{}, false
	}
	keys := p.paths.keys(c.parent)
	n, ok := p.paths.add(append(keys, field))
	c.src, c.node = 'i', n
	return c, ok
}

// literal is e's constant, or nil.
func literal(e celast.Expr) any {
	if e.Kind() != celast.LiteralKind {
		return nil
	}
	return e.AsLiteral()
}

// operand plans a field of the item (a chain of selects and indexes by
// string constants), a header, webhook or incoming, possibly in double().
func (p *fastPlan) operand(e celast.Expr, c *fastCmp) bool {
	if e.Kind() == celast.CallKind {
		if call := e.AsCall(); !call.IsMemberFunction() && call.FunctionName() == "double" {
			if len(call.Args()) != 1 || c.double {
				return false
			}
			c.double = true
			e = call.Args()[0]
		}
	}
	if e.Kind() == celast.IdentKind {
		switch e.AsIdent() {
		case configs.CELWebhook:
			c.src = 'w'
			return true
		case configs.CELIncoming:
			c.src = 'n'
			return true
		}
		return false
	}
	var keys []string
	for {
		var key string
		switch e.Kind() {
		case celast.SelectKind:
			s := e.AsSelect()
			if s.IsTestOnly() {
				return false
			}
			key, e = s.FieldName(), s.Operand()
		case celast.CallKind:
			call := e.AsCall()
			if call.IsMemberFunction() || call.FunctionName() != operators.Index || len(call.Args()) != 2 {
				return false
			}
			k, ok := literal(call.Args()[1]).(types.String)
			if !ok {
				return false
			}
			key, e = string(k), call.Args()[0]
		default:
			return false
		}
		keys = append(keys, key)
		if e.Kind() == celast.IdentKind {
			break
		}
	}
	slices.Reverse(keys)
	switch e.AsIdent() {
	case configs.CELHeaders:
		if len(keys) != 1 {
			return false
		}
		c.src, c.header = 'h', keys[0]
		return true
	case configs.CELItem:
		for _, k := range keys {
			if !plainKey(k) {
				return false
			}
		}
		n, ok := p.paths.add(keys)
		c.src, c.node = 'i', n
		return ok
	}
	return false
}

// plainKey reports whether gjson.Get, which jsonObject.lookup asks for
// the key, takes it as the key itself: no character of its path syntax
// (gjson.Escape leaves the key as it is), no backslash, not empty.
func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		safe := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c <= ' ' || c > '~' || c == '_' || c == '-' || c == ':'
		if !safe {
			return false
		}
	}
	return true
}

// eval evaluates the plan on item (which has passed readJSON) and h.
func (p *fastPlan) eval(item []byte, h map[string][]string) verdict {
	var st scanState
	if len(p.paths.nodes) > 0 {
		p.paths.scan(item, &st)
	}
	return p.root.eval(item, h, &st)
}

func (n *fastNode) eval(item []byte, h map[string][]string, st *scanState) verdict {
	switch n.op {
	case '&', '|':
		// CEL's && is false when either side is false, whatever the other
		// (an error included); || is true when either is true.
		decisive := isFalse
		if n.op == '|' {
			decisive = isTrue
		}
		out := 3 - decisive // the other verdict, until a kid is undecided
		for i := range n.kids {
			switch v := n.kids[i].eval(item, h, st); v {
			case decisive:
				return v
			case undecided:
				out = undecided
			}
		}
		return out
	case '!':
		switch n.kids[0].eval(item, h, st) {
		case isTrue:
			return isFalse
		case isFalse:
			return isTrue
		}
		return undecided
	}
	return n.cmp.eval(item, h, st)
}

// value kinds of an operand, as jsonValue would convert it.
const (
	valNone   = iota // absent, a container, or not to be compared here
	valString        // str
	valNumber        // num
	valBool          // b
	valNull
)

func (c *fastCmp) eval(item []byte, h map[string][]string, st *scanState) verdict {
	if c.presence {
		return c.exists(item, h, st)
	}
	kind, str, num, b := c.value(item, h, st)
	if kind == valNone {
		return undecided
	}
	if c.double {
		switch kind {
		case valString:
			// cel-go's string to double conversion; its errors are its own.
			f, err := strconv.ParseFloat(str, 64)
			if err != nil {
				return undecided
			}
			kind, num = valNumber, f
		case valNumber:
		default:
			return undecided
		}
	}
	if kind == valNumber && math.IsNaN(num) {
		return undecided // cel-go refuses to order NaN; leave it every NaN rule
	}
	if c.truth {
		if kind != valBool {
			return undecided
		}
		return verdictOf(b)
	}
	var order int // the operand compared with the constant
	switch c.kind {
	case 's':
		if kind != valString {
			return undecided
		}
		if c.op == operators.In {
			return verdictOf(slices.Contains(c.list, str))
		}
		order = strings.Compare(str, c.str)
	case 'd':
		if kind != valNumber {
			return undecided
		}
		switch {
		case num < c.num:
			order = -1
		case num > c.num:
			order = 1
		}
	case 'b':
		if kind != valBool {
			return undecided
		}
		if b != c.yes {
			order = 1
		}
	case 'n':
		if kind != valNull {
			return undecided
		}
	}
	if c.flip {
		order = -order
	}
	switch c.op {
	case operators.Equals:
		return verdictOf(order == 0)
	case operators.NotEquals:
		return verdictOf(order != 0)
	case operators.Less:
		return verdictOf(order < 0)
	case operators.LessEquals:
		return verdictOf(order <= 0)
	case operators.Greater:
		return verdictOf(order > 0)
	case operators.GreaterEquals:
		return verdictOf(order >= 0)
	}
	return undecided
}

func verdictOf(b bool) verdict {
	if b {
		return isTrue
	}
	return isFalse
}

// value is the operand as jsonValue (or celVars) would make it; a
// container is valNone, as no comparison here takes one.
func (c *fastCmp) value(item []byte, h map[string][]string, st *scanState) (kind int, str string, num float64, b bool) {
	switch c.src {
	case 'w', 'n', 'h':
		hm := headerMap{h: h}
		name := c.header
		switch c.src {
		case 'w':
			name = bus.HeaderCEWebhook
		case 'n':
			name = bus.HeaderCEIncoming
		}
		s, ok := hm.value(name)
		if !ok && c.src == 'h' {
			return valNone, "", 0, false // cel-go: no such key
		}
		return valString, s, 0, false
	}
	sp := st.vals[c.node]
	if sp.end <= sp.start {
		return valNone, "", 0, false
	}
	raw := item[sp.start:sp.end]
	switch raw[0] {
	case '"':
		if len(raw) < 2 || raw[len(raw)-1] != '"' {
			return valNone, "", 0, false
		}
		if inner := raw[1 : len(raw)-1]; !slices.Contains(inner, '\\') {
			return valString, bytesString(inner), 0, false
		}
		return valString, unquote(raw), 0, false
	case 't':
		return valBool, "", 0, true
	case 'f':
		return valBool, "", 0, false
	case 'n':
		return valNull, "", 0, false
	case '{', '[':
		return valNone, "", 0, false
	}
	// gjson's conversion: ParseFloat, its error ignored (1e999 is +Inf).
	f, _ := strconv.ParseFloat(bytesString(raw), 64)
	return valNumber, "", f, false
}

// exists decides has(): a key of an object is there or not; a field of
// anything else is cel-go's to refuse.
func (c *fastCmp) exists(item []byte, h map[string][]string, st *scanState) verdict {
	if c.src == 'h' {
		_, ok := (&headerMap{h: h}).value(c.header)
		return verdictOf(ok)
	}
	if c.parent < 0 {
		if !st.object {
			return undecided
		}
	} else if sp := st.vals[c.parent]; sp.end <= sp.start || item[sp.start] != '{' {
		return undecided
	}
	sp := st.vals[c.node]
	return verdictOf(sp.end > sp.start)
}
