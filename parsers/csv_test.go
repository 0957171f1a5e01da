package parsers

import (
	"net/http"
	"testing"

	"github.com/hookgate/hookgate/configs"
)

func TestSplitCSV(t *testing.T) {
	tests := []struct {
		name    string
		delim   string
		pattern string
		body    string
		want    []string
		status  int
		msg     string
	}{
		{name: "every row is an object keyed by the header", body: "sku,qty\nA,1\nB,2\n", want: []string{`{"sku":"A","qty":"1"}`, `{"sku":"B","qty":"2"}`}},
		{name: "empty lines are skipped", body: "sku,qty\r\n\r\nA,1\r\n\nB,2", want: []string{`{"sku":"A","qty":"1"}`, `{"sku":"B","qty":"2"}`}},
		{name: "quoted fields keep commas, quotes and newlines", body: "a,b\n\"x,y\",\"say \"\"hi\"\"\nthere\"\n", want: []string{`{"a":"x,y","b":"say \"hi\"\nthere"}`}},
		{name: "another delimiter", delim: ";", body: "a;b\n1;2\n", want: []string{`{"a":"1","b":"2"}`}},
		{name: "a tab delimiter", delim: "\t", body: "a\tb\n1\t2\n", want: []string{`{"a":"1","b":"2"}`}},
		{name: "a UTF-8 byte order mark is not part of the first name", body: "\xef\xbb\xbfa,b\n1,2\n", want: []string{`{"a":"1","b":"2"}`}},
		{name: "a key pattern applies to every row", pattern: "sku", body: "sku,qty\nA,1\nB,2\n", want: []string{`"A"`, `"B"`}},
		{name: "an index pattern picks a row", pattern: "1", body: "sku,qty\nA,1\nB,2\n", want: []string{`{"sku":"B","qty":"2"}`}},
		{name: "star then key", pattern: "*.qty", body: "sku,qty\nA,1\nB,2\n", want: []string{`"1"`, `"2"`}},
		{name: "a header alone has no items", body: "a,b\n", status: http.StatusUnprocessableEntity, msg: "the body has no items"},
		{name: "a row with another number of fields names its line", body: "a,b\n1,2\n\n3\n", status: http.StatusBadRequest, msg: "invalid CSV at line 4: 1 fields, the header has 2"},
		{name: "a bare quote is a 400 with line and column", body: "a,b\n1,x\"y\n", status: http.StatusBadRequest, msg: `invalid CSV at line 2, column 4: bare " in non-quoted-field`},
		{name: "a duplicate field name is a 400", body: "a,a\n1,2\n", status: http.StatusBadRequest, msg: `invalid CSV at line 1: field name "a" appears twice in the header`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := configs.Incoming{Name: "t", Parser: "csv", PatternToItems: tt.pattern, CSV: configs.CSVOptions{Delimiter: tt.delim}}
			wantSplit(t, splitBoth(t, in, "text/csv", []byte(tt.body)), tt.want, tt.status, tt.msg)
		})
	}
}
