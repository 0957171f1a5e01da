package router

import (
	"testing"

	"github.com/hookgate/hookgate/configs"
)

func ptr[T any](v T) *T { return &v }

func TestFilter(t *testing.T) {
	item := []byte(`{"status":"released","qty":5,"price":"12.50","tags":["a","b"],"customer":{"country":"NL"},"note":null,"empty":""}`)
	tests := []struct {
		name string
		cond configs.Condition
		want bool
	}{
		{"equals matches the string value", configs.Condition{Path: "status", Equals: ptr("released")}, true},
		{"equals fails on another value", configs.Condition{Path: "status", Equals: ptr("draft")}, false},
		{"equals compares a number as written", configs.Condition{Path: "qty", Equals: ptr("5")}, true},
		{"equals on a nested path", configs.Condition{Path: "customer.country", Equals: ptr("NL")}, true},
		{"equals on a missing path fails", configs.Condition{Path: "missing", Equals: ptr("")}, false},
		{"equals the empty string when present", configs.Condition{Path: "empty", Equals: ptr("")}, true},
		{"not_equals passes on another value", configs.Condition{Path: "status", NotEquals: ptr("draft")}, true},
		{"not_equals fails on the same value", configs.Condition{Path: "status", NotEquals: ptr("released")}, false},
		{"not_equals passes on a missing path", configs.Condition{Path: "missing", NotEquals: ptr("x")}, true},
		{"in passes when listed", configs.Condition{Path: "customer.country", In: []string{"BE", "NL"}}, true},
		{"in fails when not listed", configs.Condition{Path: "customer.country", In: []string{"BE", "DE"}}, false},
		{"in fails on a missing path", configs.Condition{Path: "missing", In: []string{""}}, false},
		{"matches a regexp", configs.Condition{Path: "status", Matches: "^rel"}, true},
		{"matches fails on no match", configs.Condition{Path: "status", Matches: "^draft$"}, false},
		{"matches on array element", configs.Condition{Path: "tags.1", Matches: "^b$"}, true},
		{"exists true on a present path", configs.Condition{Path: "status", Exists: ptr(true)}, true},
		{"exists true on a null value", configs.Condition{Path: "note", Exists: ptr(true)}, true},
		{"exists true on a missing path fails", configs.Condition{Path: "missing", Exists: ptr(true)}, false},
		{"exists false on a missing path", configs.Condition{Path: "missing", Exists: ptr(false)}, true},
		{"exists false on a present path fails", configs.Condition{Path: "status", Exists: ptr(false)}, false},
		{"gt on a number", configs.Condition{Path: "qty", GT: ptr(4.0)}, true},
		{"gt is strict", configs.Condition{Path: "qty", GT: ptr(5.0)}, false},
		{"gt on a numeric string", configs.Condition{Path: "price", GT: ptr(12.0)}, true},
		{"gt on a non-number fails", configs.Condition{Path: "status", GT: ptr(0.0)}, false},
		{"gt on a missing path fails", configs.Condition{Path: "missing", GT: ptr(-1.0)}, false},
		{"lt on a number", configs.Condition{Path: "qty", LT: ptr(6.0)}, true},
		{"lt is strict", configs.Condition{Path: "qty", LT: ptr(5.0)}, false},
		{"lt on a numeric string", configs.Condition{Path: "price", LT: ptr(13.0)}, true},
		{"gjson array count", configs.Condition{Path: "tags.#", Equals: ptr("2")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := compileFilter([]configs.Condition{tt.cond})
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			if got := passes(t, f, item); got != tt.want {
				t.Errorf("match = %v, want %v", got, tt.want)
			}
		})
	}
}

// passes runs f on item without headers; a declarative filter never fails.
func passes(t *testing.T, f filter, item []byte) bool {
	t.Helper()
	ok, err := f.match(item, nil)
	if err != nil {
		t.Fatalf("match: %v", err)
	}
	return ok
}

func TestFilterNeedsEveryCondition(t *testing.T) {
	f, err := compileFilter([]configs.Condition{
		{Path: "status", Equals: ptr("released")},
		{Path: "qty", GT: ptr(10.0)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if passes(t, f, []byte(`{"status":"released","qty":5}`)) {
		t.Error("a task failing the second condition passed")
	}
	if !passes(t, f, []byte(`{"status":"released","qty":50}`)) {
		t.Error("a task meeting both conditions was filtered out")
	}
	if !passes(t, filter(nil), []byte(`not json`)) {
		t.Error("the empty filter must pass everything")
	}
}

func TestFilterRefusesBadConditions(t *testing.T) {
	tests := []struct {
		name string
		cond configs.Condition
	}{
		{"an invalid regexp", configs.Condition{Path: "a", Matches: "(["}},
		{"no operator", configs.Condition{Path: "a"}},
		{"two operators", configs.Condition{Path: "a", Equals: ptr("x"), Exists: ptr(true)}},
		{"an empty path", configs.Condition{Equals: ptr("x")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := compileFilter([]configs.Condition{tt.cond}); err == nil {
				t.Error("compiled without error")
			}
		})
	}
}
