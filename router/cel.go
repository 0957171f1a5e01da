package router

import (
	"errors"
	"sync"
	"unsafe"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/interpreter"
	"github.com/tidwall/gjson"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
)

// celFilter is one compiled cel condition (SPEC §12). A Program is safe
// for concurrent use; the variables of one evaluation live in a celVars
// taken from a pool, so that an evaluation builds no map.
type celFilter struct {
	prg     cel.Program
	tracked bool      // the cost limit is enforced while evaluating
	vars    sync.Pool // of *celVars
	fast    *fastPlan // set when the expression is of the kind planFast takes
}

// maxItemSize bounds any string, list or map an item can hold: NATS never
// carries a message larger than 64MiB, whatever max_payload says.
const maxItemSize = 64 << 20

// compileCEL builds a cel condition in env (configs.CELEnv) under the cost
// limit that bounds what one item can make it do. The limit holds in one
// of two ways: cel-go's estimate of the worst case, for any item and
// headers up to maxItemSize, is within it (a few comparisons of fields
// with constants: nothing an item does can make them cost more), or the
// cost is tracked during every evaluation and the evaluation stops at the
// limit (comprehensions, string functions on item fields). Tracking costs
// about a third of a small expression's time, hence not paid when proven.
func compileCEL(env *cel.Env, src string) (*celFilter, error) {
	ast, err := configs.CompileCEL(env, src)
	if err != nil {
		return nil, err
	}
	opts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
	est, err := env.EstimateCost(ast, celSizes{})
	tracked := err != nil || est.Max > configs.CELCostLimit
	if tracked {
		opts = append(opts, cel.CostLimit(configs.CELCostLimit))
	}
	prg, err := configs.PlanCEL(env, ast, opts...)
	if err != nil {
		return nil, err
	}
	f := &celFilter{prg: prg, tracked: tracked}
	f.vars.New = func() any { return new(celVars) }
	if !tracked {
		// A planned expression costs a few operations; tracked ones are
		// left to cel-go, which enforces the limit.
		f.fast = planFast(ast.NativeRep().Expr())
	}
	return f, nil
}

// eval runs the expression on one task. item has passed readJSON; h are
// the task's headers. An error (a missing key, a wrong type, the cost
// limit) is the caller's to report: the task does not pass.
func (f *celFilter) eval(item []byte, h map[string][]string) (bool, error) {
	if f.fast != nil {
		switch f.fast.eval(item, h) {
		case isTrue:
			return true, nil
		case isFalse:
			return false, nil
		}
	}
	return f.evalCEL(item, h)
}

// evalCEL runs the expression with cel-go: the slow path, and the one
// whose results and errors the fast path matches.
func (f *celFilter) evalCEL(item []byte, h map[string][]string) (bool, error) {
	v := f.vars.Get().(*celVars)
	v.reset(item, h)
	out, _, err := f.prg.Eval(v)
	v.reset(nil, nil)
	f.vars.Put(v)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		// The checker made sure the expression is bool; a dyn value
		// can still surprise it at run time.
		return false, errors.New("the expression did not yield a bool")
	}
	return bool(b), nil
}

// celVars is the activation of one evaluation: the variables are made on
// first use, and item at most once however often the expression names it.
type celVars struct {
	item    []byte
	text    string
	root    any
	rooted  bool
	obj     jsonObject // the root when the item is an object, without an allocation
	headers headerMap
}

var _ interpreter.Activation = (*celVars)(nil)

func (v *celVars) reset(item []byte, h map[string][]string) {
	*v = celVars{item: item, headers: headerMap{h: h}}
}

func (v *celVars) ResolveName(name string) (any, bool) {
	switch name {
	case configs.CELItem:
		if !v.rooted {
			// The item's bytes as a string, without copying them: gjson
			// then returns substrings of it without copying each field
			// it finds. The task body is never written to (see
			// pair.prepare), and nothing of an evaluation outlives it
			// but its bool and its error text, which fmt copies.
			v.text = unsafe.String(unsafe.SliceData(v.item), len(v.item))
			r := gjson.Parse(v.text)
			if r.IsObject() {
				v.obj = jsonObject{raw: r.Raw}
				v.root = &v.obj
			} else {
				v.root = jsonValue(r)
			}
			v.rooted = true
		}
		return v.root, true
	case configs.CELHeaders:
		return &v.headers, true
	case configs.CELWebhook:
		s, _ := v.headers.value(bus.HeaderCEWebhook)
		return types.String(s), true
	case configs.CELIncoming:
		s, _ := v.headers.value(bus.HeaderCEIncoming)
		return types.String(s), true
	}
	return nil, false
}

func (v *celVars) Parent() interpreter.Activation { return nil }

// celSizes tells cel-go's cost estimator how large a value from the
// variables may be: anything up to maxItemSize.
type celSizes struct{}

func (celSizes) EstimateSize(checker.AstNode) *checker.SizeEstimate {
	return &checker.SizeEstimate{Min: 0, Max: maxItemSize}
}

func (celSizes) EstimateCallCost(string, string, *checker.AstNode, []checker.AstNode) *checker.CallEstimate {
	return nil
}
