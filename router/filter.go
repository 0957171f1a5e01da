package router

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/google/cel-go/cel"
	"github.com/tidwall/gjson"

	"github.com/hookgate/hookgate/configs"
)

// condition is one compiled filter test: a test on a gjson path, or a cel
// expression.
type condition struct {
	path string
	test func(r gjson.Result) bool
	cel  *celFilter // set instead of path and test
}

// filter holds when every condition holds; the empty filter passes everything.
type filter []condition

// compileFilter builds the conditions of a route, in order. Exactly one
// operator, or a cel expression alone, must be set per condition
// (configs.Load checks it too).
func compileFilter(conds []configs.Condition) (filter, error) {
	out := make(filter, 0, len(conds))
	var env *cel.Env
	for i, c := range conds {
		if c.CEL != "" {
			if c.Path != "" {
				return nil, fmt.Errorf("filter[%d]: path %q beside cel; a cel expression stands alone", i, c.Path)
			}
			if env == nil {
				var err error
				if env, err = configs.CELEnv(); err != nil {
					return nil, fmt.Errorf("filter[%d].cel: CEL environment: %w", i, err)
				}
			}
			f, err := compileCEL(env, c.CEL)
			if err != nil {
				return nil, fmt.Errorf("filter[%d].cel: %w", i, err)
			}
			out = append(out, condition{cel: f})
			continue
		}
		var tests []func(gjson.Result) bool
		if c.Equals != nil {
			want := *c.Equals
			tests = append(tests, func(r gjson.Result) bool { return r.Exists() && r.String() == want })
		}
		if c.NotEquals != nil {
			// A missing value is not equal to anything, so it passes.
			want := *c.NotEquals
			tests = append(tests, func(r gjson.Result) bool { return !r.Exists() || r.String() != want })
		}
		if c.In != nil {
			set := slices.Clone(c.In)
			tests = append(tests, func(r gjson.Result) bool { return r.Exists() && slices.Contains(set, r.String()) })
		}
		if c.Matches != "" {
			re, err := regexp.Compile(c.Matches)
			if err != nil {
				return nil, fmt.Errorf("filter[%d].matches: %w; write a Go regular expression", i, err)
			}
			tests = append(tests, func(r gjson.Result) bool { return r.Exists() && re.MatchString(r.String()) })
		}
		if c.Exists != nil {
			want := *c.Exists
			tests = append(tests, func(r gjson.Result) bool { return r.Exists() == want })
		}
		if c.GT != nil {
			bound := *c.GT
			tests = append(tests, func(r gjson.Result) bool { f, ok := number(r); return ok && f > bound })
		}
		if c.LT != nil {
			bound := *c.LT
			tests = append(tests, func(r gjson.Result) bool { f, ok := number(r); return ok && f < bound })
		}
		if len(tests) != 1 {
			return nil, fmt.Errorf("filter[%d] (path %q): %d operators set; set exactly one of equals, not_equals, in, matches, exists, gt, lt", i, c.Path, len(tests))
		}
		if c.Path == "" {
			return nil, fmt.Errorf("filter[%d]: path is empty; give a gjson path on the item", i)
		}
		out = append(out, condition{path: c.Path, test: tests[0]})
	}
	return out, nil
}

// number is the numeric value of a JSON number or of a string holding one
// (XML and CSV items carry numbers as strings).
func number(r gjson.Result) (float64, bool) {
	switch r.Type {
	case gjson.Number:
		return r.Num, true
	case gjson.String:
		f, err := strconv.ParseFloat(r.Str, 64)
		return f, err == nil
	}
	return 0, false
}

// match reports whether item, with the task's headers h, passes every
// condition, tried in order until one fails. item has passed readJSON (see
// pair.prepare): gjson is not to see nesting it would recurse through
// without bound. A cel expression that fails on the item (a missing key, a
// wrong type, the cost limit) is an error naming it: the task is a dead
// letter, it does not pass.
func (f filter) match(item []byte, h map[string][]string) (bool, error) {
	for i, c := range f {
		if c.cel != nil {
			ok, err := c.cel.eval(item, h)
			if err != nil {
				return false, &unreadable{step: "filter", reason: fmt.Sprintf("filter[%d].cel: %v", i, err)}
			}
			if !ok {
				return false, nil
			}
			continue
		}
		if !c.test(gjson.GetBytes(item, c.path)) {
			return false, nil
		}
	}
	return true, nil
}
