package router

import (
	"bytes"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/itchyny/gojq"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/parsers"
)

func TestJQRootKeys(t *testing.T) {
	for _, tt := range []struct {
		prog string
		want string // the keys, sorted and joined by ","; "*" when every key is decoded
	}{
		{`{orderId: .["-id"], customer: .Customer.Number, source: "erp", lines: [.Lines.Line] | flatten | map({sku: .Sku, qty: (.Quantity | tonumber)})}`, "-id,Customer,Lines"},
		{`.a`, "a"},
		{`."a b".c[0]?`, "a b"},
		{`.a[.i]`, "a,i"},
		{`{status, "x y", $x, n: 1}`, "status,x y"},
		{`{(.k): .v}`, "k,v"},
		{`.a as $x | {x: $x, b: .b}`, "a,b"},
		{`.a as [$x, {y: $y}] | .b`, "a,b"},
		{`if .a then .b elif .c then .d else .e end`, "a,b,c,d,e"},
		{`try .a catch .`, "a"},
		{`reduce .items[] as $i (.init; . + $i)`, "init,items"},
		{`foreach .items[] as $i (0; . + $i; [$i, .])`, "items"},
		{`"\(.a)-\(.b)"`, "a,b"},
		{`@base64 "\(.a)"`, "a"},
		{`.a // .b, -.c, (.d | keys)`, "a,b,c,d"},
		{`label $out | .a | ., break $out`, "a"},
		{`def f: .; .a | f`, "a"},
		{`empty`, ""},
		// Anything that could see the item whole decodes every key.
		{`.`, "*"},
		{`{a: .}`, "*"},
		{`..`, "*"},
		{`.[]`, "*"},
		{`.[0]`, "*"},
		{`.[.a:]`, "*"},
		{`keys`, "*"},
		{`length`, "*"},
		{`map(.a)`, "*"},
		{`select(.a)`, "*"},
		{`tojson`, "*"},
		{`@base64`, "*"},
		{`del(.a)`, "*"},
		{`.a = 1`, "*"},
		{`.a |= 1`, "*"},
		{`. as $all | .a`, "*"},
		{`. as {$a} | $a`, "*"},
		{`.a as {(.k): $v} | $v`, "*"},
		{`def f: .; f`, "*"},
		{`"\(.)"`, "*"},
		{`.["a\(.b)"]`, "*"},
		{`{"a\(.b)"}`, "*"},
		{`reduce .[] as $x (0; .)`, "*"},
		{`reduce empty as $x (.; .)`, "*"},
		{`if . then 1 else 2 end`, "*"},
		{`if .a then .b end`, "*"}, // no else: the item itself when .a is false
		{`if .a then .b elif .c then .d end`, "*"},
		{`label $o | if .a then break $o end`, "*"},
		{`def empty: .; empty`, "*"},
		{`{r: (def empty: keys; [empty])}`, "*"},
		{`getpath(["a"])`, "*"},
		{`to_entries`, "*"},
		{`$__loc__ | .`, ""}, // past a pipe, . is what the left side yields
		{`input`, "*"},
	} {
		t.Run(tt.prog, func(t *testing.T) {
			q, err := gojq.Parse(tt.prog)
			if err != nil {
				t.Fatal(err)
			}
			keys, ok := jqRootKeys(q)
			got := "*"
			if ok {
				got = strings.Join(slices.Sorted(maps.Keys(keys)), ",")
			}
			if got != tt.want {
				t.Errorf("keys %q, want %q", got, tt.want)
			}
		})
	}
}

// jqPrunable are programs jqRootKeys proves read only some keys, each run
// by FuzzJQRootKeys with and without the pruned decode.
var jqPrunable = []string{
	`{orderId: .["-id"], customer: .Customer.Number, source: "erp", lines: [.Lines.Line] | flatten | map({sku: .Sku, qty: (.Quantity | tonumber)})}`,
	`.a`,
	`.a.b[0]?`,
	`.a[.i]`,
	`{a, "b c", n: .n}`,
	`{(.k): .v}`,
	`.a as $x | [$x, .b]`,
	`.list as [$x, $y] | {x: $x, y: $y, z: .z}`,
	`if .a then .b elif .c then .d else .e end`,
	`try (.a | error) catch .`,
	`reduce (.list | .[]?) as $i (.n; [., $i])`,
	`"\(.a)-\(.b)"`,
	`.a // .b, -(.n | numbers), (.a | keys?)`,
	`[.a, .b] | tojson`,
	`.a + .b`,
	`.a.b.c`,
	`{x: .a} | .x.y`,
}

// FuzzJQRootKeys: for every program jqRootKeys prunes, the pruned decode
// gives the same output, byte for byte, or the same error, as decoding
// the whole item.
func FuzzJQRootKeys(f *testing.F) {
	f.Add([]byte(`{"-id":"SO-1","Customer":{"Number":"C-1"},"Lines":{"Line":[{"Sku":"A","Quantity":"2"}]},"Other":{"deep":[1,2,3]},"x":"y"}`))
	f.Add([]byte(`{"a":{"b":[{"c":1}]},"i":"b","k":"key","v":[1,{"w":2}],"n":12345678901234567890,"skip":{"a":1}}`))
	f.Add([]byte(`{"list":[1,2],"a":null,"b":"x","c":true,"d":{"e":1},"e":[]}`))
	f.Add([]byte(`{"a":"1","b":2,"a":{"b":{"c":"last"}}}`))
	f.Add([]byte(`{"a b":1,"b c":{"x":[]},"z":{"k":{"a":"inner keys are not the item's"}}}`))
	f.Add([]byte(`[{"a":1},{"b":2}]`))
	f.Add([]byte(`"a"`))
	type both struct{ pruned, full step }
	steps := make([]both, len(jqPrunable))
	for i, prog := range jqPrunable {
		code, q, err := configs.CompileJQ(prog)
		if err != nil {
			f.Fatal(err)
		}
		keep, ok := jqRootKeys(q)
		if !ok {
			f.Fatalf("%s: not pruned; keep jqPrunable to programs jqRootKeys prunes", prog)
		}
		steps[i] = both{jqStep(0, code, keep, jqTimeout), jqStep(0, code, nil, jqTimeout)}
	}
	f.Fuzz(func(t *testing.T, item []byte) {
		if parsers.CheckJSON(item) != nil || bytes.HasPrefix(item, []byte(bom)) {
			return // readJSON refuses it before any step
		}
		for i, s := range steps {
			got, gotErr := s.pruned(item)
			want, wantErr := s.full(item)
			if !bytes.Equal(got, want) || errString(gotErr) != errString(wantErr) {
				t.Fatalf("%s on %s:\npruned %s %v\nfull   %s %v", jqPrunable[i], item, got, gotErr, want, wantErr)
			}
		}
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
