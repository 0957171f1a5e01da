package router

import (
	"strings"

	"github.com/itchyny/gojq"
)

// jqRootKeys is the set of the item's top-level keys a jq program can
// observe, when that can be proven from its syntax; ok is false when the
// program may observe the item whole (then every key is decoded).
//
// A jq reshape of an ERP order typically reads a handful of its fields, and
// decoding the others into gojq's values is most of a step's cost. The
// proof is deliberately narrow: wherever the program's input is the item
// itself ("root context"), only an index by a constant string (.a, ."a",
// .["a"]) may touch it; anything that could see the whole object (a bare
// ., .., .[], a computed index, any function or format applied to it, an
// update-assignment, a pattern with a computed key) gives up. Past a pipe,
// the input is a value read through such an index, which is decoded in
// full, so the right side may do anything. FuzzJQRootKeys checks that the
// pruned decode gives every program in its corpus the same output, byte
// for byte, as the full one.
func jqRootKeys(q *gojq.Query) (keys map[string]struct{}, ok bool) {
	a := jqRootScan{keys: map[string]struct{}{}}
	if !a.query(q) {
		return nil, false
	}
	return a.keys, true
}

type jqRootScan struct {
	keys map[string]struct{}
}

// query reports whether q, run on the item, observes only a.keys (which it
// extends).
func (a *jqRootScan) query(q *gojq.Query) bool {
	if q == nil {
		return true
	}
	if q.Meta != nil || len(q.Imports) > 0 {
		return false
	}
	// Function definitions are harmless by themselves: a call in root
	// context gives up (term), a call past a pipe sees a derived value.
	// Except empty, which term accepts in root context: redefined, it
	// could be anything (def empty: .;).
	for _, fd := range q.FuncDefs {
		if fd.Name == "empty" {
			return false
		}
	}
	if q.Term != nil {
		return a.term(q.Term)
	}
	switch q.Op {
	case gojq.OpPipe:
		if !a.query(q.Left) {
			return false
		}
		if len(q.Patterns) == 0 {
			return true // the right side's input is the left side's output
		}
		// `E as $x | body`: body runs on the item again, and $x holds
		// what E yields, which is never the item (a bare . gives up).
		for _, p := range q.Patterns {
			if !a.pattern(p) {
				return false
			}
		}
		return a.query(q.Right)
	case gojq.OpComma, gojq.OpAdd, gojq.OpSub, gojq.OpMul, gojq.OpDiv, gojq.OpMod,
		gojq.OpEq, gojq.OpNe, gojq.OpGt, gojq.OpLt, gojq.OpGe, gojq.OpLe,
		gojq.OpAnd, gojq.OpOr, gojq.OpAlt:
		return a.query(q.Left) && a.query(q.Right)
	default: // =, |=, +=, …: they yield the item with a change, all of it
		return false
	}
}

// pattern accepts destructuring patterns without computed keys.
func (a *jqRootScan) pattern(p *gojq.Pattern) bool {
	for _, e := range p.Array {
		if !a.pattern(e) {
			return false
		}
	}
	for _, o := range p.Object {
		if o.KeyQuery != nil || (o.KeyString != nil && len(o.KeyString.Queries) > 0) {
			return false
		}
		if o.Val != nil && !a.pattern(o.Val) {
			return false
		}
	}
	return true
}

func (a *jqRootScan) term(t *gojq.Term) bool {
	suffixes := t.SuffixList
	var ok bool
	switch t.Type {
	case gojq.TermTypeNull, gojq.TermTypeTrue, gojq.TermTypeFalse, gojq.TermTypeNumber, gojq.TermTypeBreak:
		ok = true
	case gojq.TermTypeIndex:
		ok = a.index(t.Index)
	case gojq.TermTypeIdentity:
		// Only `.["a"]…` written as identity with an index suffix.
		ok = len(suffixes) > 0 && suffixes[0].Index != nil && a.index(suffixes[0].Index)
		if ok {
			suffixes = suffixes[1:]
		}
	case gojq.TermTypeFunc:
		// Variables and empty use no input; every other function may
		// read the item whole (length, keys, map, select, tojson, …).
		ok = len(t.Func.Args) == 0 && (strings.HasPrefix(t.Func.Name, "$") || t.Func.Name == "empty")
	case gojq.TermTypeObject:
		ok = a.object(t.Object)
	case gojq.TermTypeArray:
		ok = a.query(t.Array.Query)
	case gojq.TermTypeUnary:
		ok = a.term(t.Unary.Term)
	case gojq.TermTypeString:
		ok = a.str(t.Str)
	case gojq.TermTypeFormat:
		// @base64 "\(.a)" formats what it interpolates; a bare @base64
		// formats the item.
		ok = t.Str != nil && a.str(t.Str)
	case gojq.TermTypeIf:
		// Without else, a false condition yields the item itself.
		ok = t.If.Else != nil && a.query(t.If.Cond) && a.query(t.If.Then) && a.query(t.If.Else)
		for _, e := range t.If.Elif {
			ok = ok && a.query(e.Cond) && a.query(e.Then)
		}
	case gojq.TermTypeTry:
		// The catch runs on the error message, not on the item.
		ok = a.query(t.Try.Body)
	case gojq.TermTypeReduce:
		// The update runs on the accumulator.
		ok = a.query(t.Reduce.Query) && a.query(t.Reduce.Start) && a.patterns(t.Reduce.Patterns)
	case gojq.TermTypeForeach:
		ok = a.query(t.Foreach.Query) && a.query(t.Foreach.Start) && a.patterns(t.Foreach.Patterns)
	case gojq.TermTypeLabel:
		ok = a.query(t.Label.Body)
	case gojq.TermTypeQuery:
		ok = a.query(t.Query)
	default: // .., and whatever a later gojq adds
		ok = false
	}
	return ok && a.suffixes(suffixes)
}

// object reads an object construction: its computed keys and its values
// run on the item, and a shorthand member ({a}, {"a b"}) indexes it.
func (a *jqRootScan) object(o *gojq.Object) bool {
	for _, kv := range o.KeyVals {
		switch {
		case kv.KeyQuery != nil:
			if !a.query(kv.KeyQuery) {
				return false
			}
		case kv.KeyString != nil:
			if !a.str(kv.KeyString) {
				return false
			}
			if kv.Val == nil { // {"a b"} is {"a b": .["a b"]}
				if len(kv.KeyString.Queries) > 0 {
					return false
				}
				a.keys[kv.KeyString.Str] = struct{}{}
			}
		case strings.HasPrefix(kv.Key, "$"): // {$x} or {$x: v}
		case strings.HasPrefix(kv.Key, "@"):
			return false
		case kv.Val == nil: // {a} is {a: .a}
			a.keys[kv.Key] = struct{}{}
		}
		if !a.query(kv.Val) {
			return false
		}
	}
	return true
}

// index records the key of an index by a constant string (.a, ."a",
// .["a"]); any other index (computed, numeric, a slice) may read the item
// whole.
func (a *jqRootScan) index(ix *gojq.Index) bool {
	key, ok := a.constKey(ix)
	if ok {
		a.keys[key] = struct{}{}
	}
	return ok
}

// suffixes are what follows a term (.a.b[0][.i]?): they read the term's
// value, but a computed index runs on the item.
func (a *jqRootScan) suffixes(list []*gojq.Suffix) bool {
	for _, s := range list {
		if s.Index != nil && (!a.query(s.Index.Start) || !a.query(s.Index.End)) {
			return false
		}
	}
	return true
}

func (a *jqRootScan) patterns(ps []*gojq.Pattern) bool {
	for _, p := range ps {
		if !a.pattern(p) {
			return false
		}
	}
	return true
}

func (a *jqRootScan) str(s *gojq.String) bool {
	for _, q := range s.Queries {
		if !a.query(q) {
			return false
		}
	}
	return true
}

// constKey is the key of an index by a constant string: .a, ."a", .["a"].
func (a *jqRootScan) constKey(ix *gojq.Index) (string, bool) {
	switch {
	case ix.IsSlice || ix.End != nil:
		return "", false
	case ix.Name != "":
		return ix.Name, true
	case ix.Str != nil:
		return ix.Str.Str, len(ix.Str.Queries) == 0
	case ix.Start != nil && ix.Start.Term != nil && ix.Start.Term.Type == gojq.TermTypeString &&
		len(ix.Start.Term.SuffixList) == 0 && len(ix.Start.Term.Str.Queries) == 0 && ix.Start.Right == nil:
		return ix.Start.Term.Str.Str, true
	}
	return "", false
}
