package router

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/configs"
)

func TestJQTransform(t *testing.T) {
	item := []byte(`{"-id":"SO-1","id":12345678901234567890,"price":1.50,"Lines":{"Line":[{"Sku":"A","Quantity":"2"},{"Sku":"B","Quantity":"1"}]},"note":"a\u00e9\"b","z":null,"b":true}`)
	tests := []struct {
		name, prog, want string
	}{
		{"the SPEC's reshape, keys sorted as jq writes them", `{orderId: .["-id"], lines: [.Lines.Line] | flatten | map({sku: .Sku, qty: (.Quantity | tonumber)})}`,
			`{"lines":[{"qty":2,"sku":"A"},{"qty":1,"sku":"B"}],"orderId":"SO-1"}`},
		{"numbers stay as the item wrote them", `{id, price}`, `{"id":12345678901234567890,"price":1.50}`},
		{"arithmetic on a number", `.price * 2`, `3`},
		{"strings keep their characters", `.note`, `"aé\"b"`},
		{"null and bools", `[.z, .b, .missing]`, `[null,true,null]`},
		{"identity", `.Lines.Line[0]`, `{"Quantity":"2","Sku":"A"}`},
		{"no environment", `[$ENV | length, (env | length)]`, `[0,0]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := compileTransform([]configs.Transform{{JQ: tt.prog}})
			if err != nil {
				t.Fatal(err)
			}
			got, err := tr.apply(item, 1<<20)
			if err != nil || string(got) != tt.want {
				t.Errorf("%s = %s, %v; want %s", tt.prog, got, err, tt.want)
			}
		})
	}
}

func TestJQTransformMixesWithDeclarativeSteps(t *testing.T) {
	tr, err := compileTransform([]configs.Transform{
		{Set: []configs.KeyJSON{{Key: "source", JSON: []byte(`"erp"`)}}},
		{JQ: `{id: .id, from: .source, n: (.lines | length)}`},
		{Rename: []configs.KeyValue{{Key: "from", Value: "origin"}}},
		{JQ: `.n += 1`},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := tr.apply([]byte(`{"id":"7","lines":[1,2]}`), 1<<20)
	if want := `{"id":"7","n":3,"origin":"erp"}`; err != nil || string(got) != want {
		t.Errorf("apply = %s, %v; want %s", got, err, want)
	}
}

func TestJQTransformErrorsAreDeadLetters(t *testing.T) {
	tests := []struct {
		name, prog, want string
	}{
		{"several outputs", `.lines[]`, "transform: transform[1].jq: several outputs; a jq transform must yield exactly one value"},
		{"no output", `empty`, "transform: transform[1].jq: no output"},
		{"select that drops the item", `select(.id == "8")`, "transform: transform[1].jq: no output"},
		{"an error", `.id | tonumber | . + "x"`, "transform: transform[1].jq: cannot add: number (7) and string (\"x\")"},
		{"error()", `error("bad order")`, "transform: transform[1].jq: error: bad order"},
		{"an error after the first output", `.id, error("late")`, "transform: transform[1].jq: error: late"},
		{"halt", `halt`, "transform: transform[1].jq: halted without output"},
		{"the timeout", `[range(1e12)] | length`, "transform: transform[1].jq: stopped after 100ms"},
		{"a loop without output", `def f: f; f`, "transform: transform[1].jq: stopped after 100ms"},
		{"an output past the limit", `[range(1000)]`, "transform: output larger than"},
		{"a string repeated past what gojq allows", `"x" * 1e10`, "transform: transform[1].jq: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := compileTransform([]configs.Transform{{Remove: []string{"x"}}, {JQ: tt.prog}})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			got, err := tr.apply([]byte(`{"id":"7","lines":[1,2]}`), 1024)
			var u *unreadable
			if !errors.As(err, &u) || u.step != "transform" || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("%s = %s, %v; want an error starting %q", tt.prog, got, err, tt.want)
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("%s took %v", tt.prog, took) // a hang, not a timing claim
			}
		})
	}
}

func TestJQCompileErrorNamesTheStep(t *testing.T) {
	for _, prog := range []string{`{a: .b`, `input`, `[inputs]`, `nosuch(1)`, " "} {
		_, err := compileTransform([]configs.Transform{{Remove: []string{"x"}}, {JQ: prog}})
		if err == nil || !strings.HasPrefix(err.Error(), "transform[1].jq: ") {
			t.Errorf("compile %q = %v; want transform[1].jq: …", prog, err)
		}
	}
}
