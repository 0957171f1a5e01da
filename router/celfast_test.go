package router

import (
	"testing"

	"github.com/hookgate/hookgate/configs"
)

// fastCEL are expressions of the kind the fast path plans: every operator,
// operand and constant it takes, literals on either side, keys met twice
// or escaped in the items.
var fastCEL = []string{
	`item["-status"] == "released" && item.Customer.Address.Country in ["DE", "NL"] && double(item.Total) > 100.0`,
	`item.a == "x" || item.a.b == "y"`,
	`item.a.b.c != "z" && !(item.d == true)`,
	`item.n > 1 && item.n <= 5.5 && 2 < item.n && item.n != -3`,
	`item.n == 2 || item.n >= 9007199254740992 || item.n < -9007199254740992`,
	`double(item.s) >= 0.0 || double(item.n) < -1.5`,
	`item.s < "m" || "m" <= item.s`,
	`item.s in [] || item.s in ["", "a", "\u00fc"]`,
	`item.flag && !item.flag || item.none == null || null != item.none`,
	`item["a-b"]["c:d"] == "e" && item["x y"] == "z"`,
	`item.a.a.a.a == "deep" || item.a.a == "shallow"`,
	`headers["X-Event"] == "push" && webhook == "w" && incoming != "i"`,
	`headers.missing == "a" || item.a == "x"`,
	`item.s == 1.0 || item.n == "1"`,
	`double(item.a) == 0.0 || item.b.c in ["x"]`,
	`item["ü"] == "ö" && item["\u00fc"] != "x"`,
	`has(item.a) && !has(item.a.b) || has(item.a.b.c) || has(headers.X) || has(headers.missing)`,
	`has(item.b) && has(item.b.c) && item.b.c == "x"`,
	`"X-Event" in headers && !("Y" in headers) || item.a == "x"`,
}

// notFast are expressions the fast path leaves to cel-go, each for a
// reason of its own.
var notFast = []string{
	`has(item.tags[0].a)`,                    // a presence test under an index by number
	`item.a.exists(k, k == "b")`,             // a comprehension
	`item["a.b"] == 1.0`,                     // a key gjson reads as a path
	`item[""] == 1.0`,                        // the empty key
	`item.n == 1u`,                           // a uint constant
	`item.n == 9007199254740993`,             // an int a double does not hold
	`item.a in ["x", 1]`,                     // a list of mixed types
	`item.a == item.b`,                       // no constant
	`item.flag == true ? true : false`,       // a conditional
	`size(item.s) > 1`,                       // a function
	`item.s.startsWith("a")`,                 // a member function
	`item.tags[0] == "a"`,                    // an index by number
	`"a" in item`,                            // in on a dyn: the cost is tracked (a list may be long)
	`item.s + "x" == "ax"`,                   // an operator other than a comparison
	`item.s > true`,                          // ordering of a bool
	`int(item.n) == 1`,                       // a conversion other than double
	`item.a == {"b": "c"}`,                   // a map constant
	`[1, 2].exists(item, item == 2) && true`, // item bound by a comprehension
}

func TestCELFastPlan(t *testing.T) {
	env, err := configs.CELEnv()
	if err != nil {
		t.Fatal(err)
	}
	for _, src := range fastCEL {
		f, err := compileCEL(env, src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if f.fast == nil {
			t.Errorf("%s: not planned; want the fast path", src)
		}
	}
	for _, src := range notFast {
		f, err := compileCEL(env, src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if f.fast != nil {
			t.Errorf("%s: planned; want cel-go", src)
		}
	}
}

// fastItems are items whose fields the fast path must find as the slow
// path does.
var fastItems = []string{
	`{"-status":"released","Customer":{"Address":{"Country":"DE"}},"Total":"141.40"}`,
	`{"Customer":{"Address":{"Country":"FR"}},"Total":"141.40","-status":"released"}`,
	// The first of duplicate keys wins, at every level, and the path
	// does not go on in a later duplicate.
	`{"a":{"b":"y"},"a":"x"}`,
	`{"a":"x","a":{"b":"y"}}`,
	`{"a":{"c":1},"a":{"b":"y"}}`,
	`{"a":{"b":{"c":"q"},"b":{"c":"z"}},"d":false}`,
	// Escaped keys are compared unescaped; escaped quotes inside strings.
	`{"\u0061":"x","a":"y"}`,
	`{"a\"":"no","a":{"b":"y\"\\"},"\u00fc":"\u00f6"}`,
	`{"ü":"ö","s":"\u00fc"}`,
	`{"a-b":{"c:d":"e"},"x y":"z"}`,
	// Numbers and conversions.
	`{"n":2,"s":"1e999","flag":true,"none":null}`,
	`{"n":-3,"s":"NaN"}`,
	`{"n":9007199254740992,"s":"-0"}`,
	`{"n":1e400,"s":" 1"}`,
	`{"n":"2","s":2}`,
	`{"s":"","flag":"true","none":"null"}`,
	`{"s":"m","n":5.5}`,
	`{"a":{"a":{"a":{"a":"deep"}}}}`,
	`{"a":{"a":"shallow"}}`,
	`{"a":[{"b":"y"}],"b":{"c":"x"}}`,
	`{"a":"0x1p-2","b":{"c":["x"]}}`,
	// Not an object at the root, or nothing at all.
	`["a","x"]`,
	`"x"`,
	`null`,
	`{}`,
	" \t\n{\"a\" : \"x\" , \"n\" : 2 }\n",
}

// FuzzCELFast checks the fast path against cel-go itself: for arbitrary
// items, the expressions of fastCEL and an arbitrary one, the result and
// the error (its text too) are the same with the fast path as without.
func FuzzCELFast(f *testing.F) {
	for i, item := range fastItems {
		f.Add([]byte(item), fastCEL[i%len(fastCEL)], "push")
	}
	env, err := configs.CELEnv()
	if err != nil {
		f.Fatal(err)
	}
	fixed := make([]*celFilter, len(fastCEL))
	for i, src := range fastCEL {
		if fixed[i], err = compileCEL(env, src); err != nil {
			f.Fatal(err)
		}
	}
	f.Fuzz(func(t *testing.T, item []byte, expr, event string) {
		item, err := readJSON("filter", item)
		if err != nil {
			return // the pipeline refuses it before any filter
		}
		h := map[string][]string{"X-Event": {event}, "ce-webhook": {"w"}, "ce-incoming": {"i"}}
		filters := fixed
		if g, err := compileCEL(env, expr); err == nil {
			filters = append(filters[:len(filters):len(filters)], g)
		}
		for i, g := range filters {
			src := expr
			if i < len(fastCEL) {
				src = fastCEL[i]
			}
			got, gotErr := g.eval(item, h)
			want, wantErr := g.evalCEL(item, h)
			if got != want || (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
				t.Fatalf("%s on %q: fast path %v, %v; cel-go %v, %v", src, item, got, gotErr, want, wantErr)
			}
		}
	})
}

// The fast path decides what it can (the benchmark would not show it
// otherwise), and leaves to cel-go what it must.
func TestCELFastVerdicts(t *testing.T) {
	env, err := configs.CELEnv()
	if err != nil {
		t.Fatal(err)
	}
	h := map[string][]string{"X-Event": {"push"}, "ce-webhook": {"w"}}
	tests := []struct {
		expr, item string
		want       verdict
	}{
		{fastCEL[0], orderItem1KiB, isTrue},
		{fastCEL[0], `{"-status":"released","Customer":{"Address":{"Country":"FR"}},"Total":"1"}`, isFalse},
		{fastCEL[0], `{"-status":"draft"}`, isFalse}, // false && error is false
		{fastCEL[0], `{"-status":"released","Total":"141.40"}`, undecided},
		{`item.a == "x" || item.a.b == "y"`, `{"a":{"b":"y"},"a":"x"}`, isTrue},
		{`item.a == "x"`, `{"a":{"b":"y"},"a":"x"}`, undecided}, // an object compared: cel-go's rule
		{`item.a == "x"`, `{"a":"x","a":{"b":"y"}}`, isTrue},
		{`item.a.b == "y"`, `{"a":{"c":1},"a":{"b":"y"}}`, undecided}, // no key b in the first a
		{`item.a == "x"`, `{"\u0061":"x","a":"y"}`, isTrue},
		{`item.s == "\""`, `{"s":"\""}`, isTrue},
		{`double(item.s) > 1.0`, `{"s":"NaN"}`, undecided},
		{`double(item.s) > 1.0`, `{"s":"1e999"}`, undecided}, // cel-go refuses out of range
		{`double(item.s) > 1.0`, `{"s":"abc"}`, undecided},
		{`item.n > 1`, `{"n":1e400}`, isTrue},
		{`item.n == 2`, `{"n":2.0}`, isTrue},
		{`item.flag || item.x == "y"`, `{"flag":true}`, isTrue},
		{`item.flag || item.x == "y"`, `{"flag":"true","x":"z"}`, undecided},
		{`item.none == null`, `{"none":null}`, isTrue},
		{`headers["X-Event"] == "push" && webhook == "w" && incoming == ""`, `{}`, isTrue},
		{`headers["X-Other"] == "push"`, `{}`, undecided},
		{`item.a == "x"`, `["a"]`, undecided},
		{`has(item.a)`, `["a"]`, undecided},
		{`has(item.a)`, `{"b":1,"a":null}`, isTrue},
		{`has(item.a.b)`, `{"a":{"c":1},"a":{"b":1}}`, isFalse},
		{`has(item.a.b)`, `{"a":"b"}`, undecided},
		{`has(item.a.b)`, `{"b":1}`, undecided},
		{`has(headers.X) && !has(headers.Y)`, `{}`, isFalse},
		{`has(headers.Z) || !has(headers.Y)`, `{}`, isTrue},
		{`"X-Event" in headers && !("x" in headers)`, `{}`, isTrue},
	}
	for _, tt := range tests {
		f, err := compileCEL(env, tt.expr)
		if err != nil || f.fast == nil {
			t.Fatalf("%s: %v, planned %v", tt.expr, err, f != nil && f.fast != nil)
		}
		if got := f.fast.eval([]byte(tt.item), h); got != tt.want {
			t.Errorf("%s on %s: verdict %d; want %d", tt.expr, tt.item, got, tt.want)
		}
		ok, err := f.evalCEL([]byte(tt.item), h)
		if tt.want != undecided && (err != nil || ok != (tt.want == isTrue)) {
			t.Errorf("%s on %s: cel-go says %v, %v", tt.expr, tt.item, ok, err)
		}
	}
}
