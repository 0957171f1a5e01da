package parsers

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/hookgate/hookgate/configs"
)

func TestSplitForm(t *testing.T) {
	slack := "payload=" + url.QueryEscape(`{"type":"block_actions","actions":[{"id":"a"},{"id":"b"}]}`) + "&other=1"
	tests := []struct {
		name    string
		field   string
		pattern string
		body    string
		want    []string
		status  int
		msg     string
	}{
		{name: "fields become an object of strings in order", body: "b=2&a=hello+world&c=%C3%A9", want: []string{`{"b":"2","a":"hello world","c":"é"}`}},
		{name: "a repeated key becomes an array", body: "tag=x&id=1&tag=y", want: []string{`{"tag":["x","y"],"id":"1"}`}},
		{name: "a key without value is an empty string", body: "flag&x=", want: []string{`{"flag":"","x":""}`}},
		{name: "an empty body is an empty object", body: "", want: []string{`{}`}},
		{name: "the pattern applies to the object", pattern: "tag", body: "tag=x&id=1&tag=y", want: []string{`"x"`, `"y"`}},
		{name: "invalid UTF-8 becomes U+FFFD", body: "a=%FF", want: []string{"{\"a\":\"\ufffd\"}"}},
		{name: "json_field is the document", field: "payload", pattern: "actions", body: slack, want: []string{`{"id":"a"}`, `{"id":"b"}`}},
		{name: "json_field without a pattern is its whole JSON", field: "payload", body: "payload=%7B%22a%22%3A1%7D", want: []string{`{"a":1}`}},
		{name: "a missing json_field is a 400", field: "payload", body: "other=1", status: http.StatusBadRequest, msg: `form field "payload" is missing`},
		{name: "invalid JSON in json_field is a 400", field: "payload", body: "payload=%7Bx", status: http.StatusBadRequest, msg: `invalid JSON in form field "payload" at line 1, column 2:`},
		{name: "a bad percent escape is a 400 naming its byte", body: "a=1&b=%zz", status: http.StatusBadRequest, msg: `invalid form at byte 7: invalid percent escape "%zz"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := configs.Incoming{Name: "t", Parser: "form", PatternToItems: tt.pattern, Form: configs.FormOptions{JSONField: tt.field}}
			wantSplit(t, splitBoth(t, in, "application/x-www-form-urlencoded", []byte(tt.body)), tt.want, tt.status, tt.msg)
		})
	}
}
