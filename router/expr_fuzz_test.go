package router

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/parsers"
)

// fuzzCEL are expressions that walk what an item holds: fields, lists,
// keys, sizes, conversions, equality of whole values, string functions.
var fuzzCEL = []string{
	`item.a.b == "x" || has(item.c)`,
	`item.exists(k, k == "a")`,
	`size(item) >= 0`,
	`item.list.all(x, x.qty > 0)`,
	`item == item`,
	`[item].exists(x, x == {"a": [1.0, "b", null, true]})`,
	`string(item.a).lowerAscii().startsWith("x")`,
	`item.a.map(k, k).size() >= 0`,
	`headers["X-Event"].matches("^p") && webhook == "w"`,
	`item[?"a"].orValue(0) != 1`,
	`type(item) == map && item.all(k, type(item[k]) != bytes)`,
}

// FuzzCELFilter runs cel filters on arbitrary items: never a panic or a
// hang (the cost limit), the body never changed, and every refusal a
// filter error: the task body unreadable, or the expression named.
func FuzzCELFilter(f *testing.F) {
	f.Add([]byte(`{"a":{"b":"x"},"c":1,"list":[{"qty":1},{"qty":2}]}`), "push")
	f.Add([]byte(`{"a":[1,"b",null,true]}`), "")
	f.Add([]byte(`[[[[[[[[[[1]]]]]]]]]]`), "pull")
	f.Add([]byte(`"\ud800"`), "p\x00")
	pairs := make([]*pair, len(fuzzCEL))
	for i, e := range fuzzCEL {
		pairs[i] = testPair(f, configs.Route{Filter: []configs.Condition{{CEL: e}}}, "json", 1<<20)
	}
	f.Fuzz(func(t *testing.T, item []byte, event string) {
		in := bytes.Clone(item)
		h := map[string][]string{"X-Event": {event}, "ce-webhook": {"w"}, "content-type": {"application/json"}}
		readable := parsers.CheckJSON(item) == nil
		for i, p := range pairs {
			body, _, keep, err := p.prepare(item, h)
			if !bytes.Equal(in, item) {
				t.Fatalf("%s: the task body was changed", fuzzCEL[i])
			}
			var u *unreadable
			switch {
			case err == nil:
				if !readable {
					t.Fatalf("%s: passed %q, which CheckJSON refuses", fuzzCEL[i], item)
				}
				if keep && !bytes.Equal(body, item) {
					t.Fatalf("%s: sent %q for %q", fuzzCEL[i], body, item)
				}
			case !errors.As(err, &u) || u.step != "filter":
				t.Fatalf("%s: %v; want a filter error", fuzzCEL[i], err)
			case readable && !strings.HasPrefix(err.Error(), "filter: filter[0].cel: "):
				t.Fatalf("%s: %v on a readable item; want the expression named", fuzzCEL[i], err)
			}
		}
	})
}

// FuzzJQTransform runs jq steps on arbitrary items: never a panic or a
// hang (the timeout), every refusal a transform error, every output
// valid JSON within the limit, and `.` gives back the item's value.
func FuzzJQTransform(f *testing.F) {
	f.Add([]byte(`{"a":{"b":"x"},"c":1,"list":[{"qty":1},{"qty":2}],"n":12345678901234567890}`))
	f.Add([]byte(`[1,"a\u00e9\"",null,true,-0.5e-3]`))
	f.Add([]byte(`{"dup":1,"dup":2}`))
	f.Add([]byte("\xef\xbb\xbf {\"bom\":\"\\ud800\"}"))
	const limit = 4096
	progs := []string{
		`.`,
		`{a: .a, n: (.list | length?)}`,
		`[paths] | length`,
		`tojson | fromjson`,
		`.. | numbers`,
		`to_entries? // [] | map(.key)`,
		`walk(if type == "number" then . + 1 else . end)`,
		`[.[]?] | length`,
		`[tostream] | fromstream(.[])`,
		`[limit(3; repeat(.))]`,
	}
	pairs := make([]*pair, len(progs))
	for i, prog := range progs {
		pairs[i] = testPair(f, configs.Route{Transform: []configs.Transform{{JQ: prog}}}, "json", limit)
	}
	f.Fuzz(func(t *testing.T, item []byte) {
		in := bytes.Clone(item)
		readable := parsers.CheckJSON(item) == nil
		for i, p := range pairs {
			body, _, keep, err := p.prepare(item, taskHeaders("application/json"))
			if !bytes.Equal(in, item) {
				t.Fatalf("%s: the task body was changed", progs[i])
			}
			var u *unreadable
			switch {
			case err != nil:
				if !errors.As(err, &u) || u.step != "transform" {
					t.Fatalf("%s: %v; want a transform error", progs[i], err)
				}
				if !readable && !strings.HasPrefix(err.Error(), "transform: the task body") && !strings.HasPrefix(err.Error(), "transform: nesting") {
					t.Fatalf("%s: %q refused with %v; want the body named unreadable", progs[i], item, err)
				}
			case !readable:
				t.Fatalf("%s: transformed %q, which CheckJSON refuses", progs[i], item)
			case !keep || len(body) > limit || !json.Valid(body):
				t.Fatalf("%s: %q -> %q %v; want valid JSON within %d bytes", progs[i], item, body, keep, limit)
			case progs[i] == ".":
				if !sameJSON(t, body, bytes.TrimPrefix(item, []byte(bom))) {
					t.Fatalf(". changed %q into %q", item, body)
				}
			}
		}
	})
}

// sameJSON reports whether two JSON texts hold the same value (numbers as written).
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	decode := func(doc []byte) any {
		d := json.NewDecoder(bytes.NewReader(doc))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatalf("decode %q: %v", doc, err)
		}
		return v
	}
	return reflect.DeepEqual(decode(a), decode(b))
}
