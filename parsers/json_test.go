package parsers

import (
	"net/http"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/configs"
)

func TestSplitJSON(t *testing.T) {
	deep := strings.Repeat("[", 512) + strings.Repeat("]", 512)
	tooDeep := strings.Repeat("[", 513) + strings.Repeat("]", 513)
	tests := []struct {
		name    string
		pattern string
		body    string
		want    []string
		status  int
		msg     string
	}{
		{name: "no pattern yields the whole document as written", body: " {\"b\": 1, \"a\" : [1, 2]}\n", want: []string{`{"b": 1, "a" : [1, 2]}`}},
		{name: "no pattern keeps a root array whole", body: `[1,2]`, want: []string{`[1,2]`}},
		{name: "a scalar document is one item", body: `"x"`, want: []string{`"x"`}},
		{name: "a leading UTF-8 BOM is skipped", body: "\xef\xbb\xbf{}", want: []string{`{}`}},
		{name: "a selected array yields its elements", pattern: "items", body: `{"items":[{"a":1}, 2 ,"s",null,[3]]}`, want: []string{`{"a":1}`, `2`, `"s"`, `null`, `[3]`}},
		{name: "a selected object is one item", pattern: "order", body: `{"order":{"id":7}}`, want: []string{`{"id":7}`}},
		{name: "keys come in document order", pattern: "*", body: `{"z":1,"a":2,"m":3}`, want: []string{`1`, `2`, `3`}},
		{name: "star over an array yields every element", pattern: "*", body: `[{"a":1},{"a":2}]`, want: []string{`{"a":1}`, `{"a":2}`}},
		{name: "data.*.lines yields every line of every entry", pattern: "data.*.lines", body: `{"data":{"x":{"lines":[1,2]},"y":{"lines":[3]},"z":{}}}`, want: []string{`1`, `2`, `3`}},
		{name: "a key segment passes through arrays", pattern: "orders.id", body: `{"orders":[{"id":1},{"id":2},{"no":3}]}`, want: []string{`1`, `2`}},
		{name: "a numeric segment indexes an array", pattern: "orders.1", body: `{"orders":[{"id":1},{"id":2}]}`, want: []string{`{"id":2}`}},
		{name: "a numeric segment is a key on objects", pattern: "m.0", body: `{"m":{"0":"zero","1":"one"}}`, want: []string{`"zero"`}},
		{name: "an escaped dot is part of the key", pattern: `a\.b.c`, body: `{"a.b":{"c":true},"a":{"b":{"c":false}}}`, want: []string{`true`}},
		{name: "keys with escapes are compared decoded", pattern: "caf\u00e9", body: `{"caf\u00e9":1}`, want: []string{`1`}},
		{name: "strings with escapes are kept as written", pattern: "s", body: `{"s":"a\"b\\\/\n\u00e9"}`, want: []string{`"a\"b\\\/\n\u00e9"`}},
		{name: "numbers of every shape", pattern: "n", body: `{"n":[0,-1,1.5,2e10,-3.25E-7]}`, want: []string{`0`, `-1`, `1.5`, `2e10`, `-3.25E-7`}},
		{name: "nesting of 512 is accepted", body: deep, want: []string{deep}},
		{name: "nesting of 513 is refused", body: tooDeep, status: http.StatusBadRequest, msg: "nesting deeper than 512"},
		{name: "nothing matched is a 422 naming the pattern", pattern: "missing", body: `{"a":1}`, status: http.StatusUnprocessableEntity, msg: `pattern_to_items "missing" matched nothing`},
		{name: "an empty selected array matches nothing", pattern: "a", body: `{"a":[]}`, status: http.StatusUnprocessableEntity, msg: `pattern_to_items "a" matched nothing`},
		{name: "a syntax error names line and column", pattern: "a", body: "{\"a\": [1,\n  2,\n  x]}", status: http.StatusBadRequest, msg: "invalid JSON at line 3, column 3: unexpected character 'x'"},
		{name: "a late syntax error fails the whole body", pattern: "a", body: `{"a":[1,2,3],"b":tru}`, status: http.StatusBadRequest, msg: "invalid JSON at line 1, column 21: unexpected character '}' in literal true"},
		{name: "an empty body is invalid", body: "", status: http.StatusBadRequest, msg: "invalid JSON at line 1, column 1: unexpected end of input"},
		{name: "trailing content is invalid", body: `{} {}`, status: http.StatusBadRequest, msg: "invalid JSON at line 1, column 4: unexpected character '{' after the top-level value"},
		{name: "an unterminated string is invalid", body: `{"a":"b`, status: http.StatusBadRequest, msg: "invalid JSON at line 1, column 8: unexpected end of input in string"},
		{name: "invalid UTF-8 is refused", body: "{\"a\":\"\xff\"}", status: http.StatusBadRequest, msg: "invalid JSON at line 1, column 7: invalid UTF-8 in string"},
		{name: "a control character in a string is refused", body: "\"a\tb\"", status: http.StatusBadRequest, msg: "invalid JSON at line 1, column 3: control character 0x09"},
		{name: "a leading zero is refused", body: `01`, status: http.StatusBadRequest, msg: "invalid JSON at line 1, column 2: unexpected character '1' after the top-level value"},
		{name: "a bad escape is refused", body: `"\x"`, status: http.StatusBadRequest, msg: `invalid JSON at line 1, column 3: invalid escape \'x'`},
		{name: "a missing colon is refused", body: `{"a" 1}`, status: http.StatusBadRequest, msg: "invalid JSON at line 1, column 6: unexpected character '1' after object key, expecting ':'"},
		{name: "a trailing comma is refused", body: `[1,]`, status: http.StatusBadRequest, msg: "invalid JSON at line 1, column 4: unexpected character ']', expecting a value"},
		{name: "a mismatched bracket is refused", body: `[1}`, status: http.StatusBadRequest, msg: "invalid JSON at line 1, column 3: unexpected character '}' in array, expecting ',' or ']'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantSplit(t, splitBoth(t, configs.Incoming{Name: "t", Parser: "json", PatternToItems: tt.pattern}, "application/json", []byte(tt.body)), tt.want, tt.status, tt.msg)
		})
	}
}
