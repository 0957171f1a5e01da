package router

import (
	"testing"

	"github.com/hookgate/hookgate/configs"
)

func TestTransform(t *testing.T) {
	item := `{"-id":"42","status":"released","Lines":{"Line":[{"sku":"A"},{"sku":"B"}]},"internalNotes":"x","customer":{"name":"Ann"}}`
	tests := []struct {
		name  string
		steps []configs.Transform
		want  string
	}{
		{"no steps keeps the item byte for byte", nil, item},
		{"map builds a new object in key order",
			[]configs.Transform{{Map: []configs.KeyValue{{Key: "orderId", Value: "-id"}, {Key: "lines", Value: "Lines.Line"}}}},
			`{"orderId":"42","lines":[{"sku":"A"},{"sku":"B"}]}`},
		{"map leaves out a path that matches nothing",
			[]configs.Transform{{Map: []configs.KeyValue{{Key: "a", Value: "missing"}, {Key: "s", Value: "status"}}}},
			`{"s":"released"}`},
		{"map to a nested key",
			[]configs.Transform{{Map: []configs.KeyValue{{Key: "order.customer", Value: "customer.name"}}}},
			`{"order":{"customer":"Ann"}}`},
		{"map with a gjson query",
			[]configs.Transform{{Map: []configs.KeyValue{{Key: "skus", Value: "Lines.Line.#.sku"}}}},
			`{"skus":["A","B"]}`},
		{"set adds constants of every JSON type",
			[]configs.Transform{{Set: []configs.KeyJSON{{Key: "source", JSON: []byte(`"erp"`)}, {Key: "n", JSON: []byte(`7`)}, {Key: "meta.ok", JSON: []byte(`true`)}}}},
			`{"-id":"42","status":"released","Lines":{"Line":[{"sku":"A"},{"sku":"B"}]},"internalNotes":"x","customer":{"name":"Ann"},"source":"erp","n":7,"meta":{"ok":true}}`},
		{"set replaces an existing value in place",
			[]configs.Transform{{Set: []configs.KeyJSON{{Key: "status", JSON: []byte(`"sent"`)}}}},
			`{"-id":"42","status":"sent","Lines":{"Line":[{"sku":"A"},{"sku":"B"}]},"internalNotes":"x","customer":{"name":"Ann"}}`},
		{"rename moves a value to the end under its new key",
			[]configs.Transform{{Remove: []string{"Lines", "customer", "internalNotes"}}, {Rename: []configs.KeyValue{{Key: "-id", Value: "id"}}}},
			`{"status":"released","id":"42"}`},
		{"rename skips a missing key",
			[]configs.Transform{{Map: []configs.KeyValue{{Key: "a", Value: "status"}}}, {Rename: []configs.KeyValue{{Key: "missing", Value: "b"}}}},
			`{"a":"released"}`},
		{"remove deletes keys and ignores missing ones",
			[]configs.Transform{{Remove: []string{"internalNotes", "Lines", "customer.name", "missing"}}},
			`{"-id":"42","status":"released","customer":{}}`},
		{"steps apply in order (SPEC §6 example)",
			[]configs.Transform{
				{Map: []configs.KeyValue{{Key: "orderId", Value: "-id"}, {Key: "lines", Value: "Lines.Line"}, {Key: "internalNotes", Value: "internalNotes"}}},
				{Set: []configs.KeyJSON{{Key: "source", JSON: []byte(`"erp"`)}}},
				{Rename: []configs.KeyValue{{Key: "orderId", Value: "id"}}},
				{Remove: []string{"internalNotes"}},
			},
			`{"lines":[{"sku":"A"},{"sku":"B"}],"source":"erp","id":"42"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := compileTransform(tt.steps)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			in := []byte(item)
			got, err := tr.apply(in, 1<<30)
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if string(in) != item {
				t.Errorf("the task body was changed: %s", in)
			}
		})
	}
}

func TestTransformErrors(t *testing.T) {
	tests := []struct {
		name    string
		steps   []configs.Transform
		item    string
		compile bool // the error comes at compile time
	}{
		{"two steps in one entry", []configs.Transform{{Remove: []string{"a"}, Set: []configs.KeyJSON{{Key: "b", JSON: []byte("1")}}}}, `{}`, true},
		{"an empty entry", []configs.Transform{{}}, `{}`, true},
		{"set with invalid JSON", []configs.Transform{{Set: []configs.KeyJSON{{Key: "b", JSON: []byte("{")}}}}, `{}`, true},
		{"a path sjson cannot delete", []configs.Transform{{Remove: []string{"a|b"}}}, `{"a":1}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := compileTransform(tt.steps)
			if tt.compile {
				if err == nil {
					t.Fatal("compiled without error")
				}
				return
			}
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			if _, err := tr.apply([]byte(tt.item), 1<<30); err == nil {
				t.Error("applied without error")
			}
		})
	}
}
