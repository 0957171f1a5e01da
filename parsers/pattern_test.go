package parsers

import (
	"strings"
	"testing"
)

func TestParsePattern(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []segment
		err  string
	}{
		{name: "empty selects the document", text: ""},
		{name: "keys separated by dots", text: "Orders.Order", want: []segment{{kind: segKey, key: "Orders"}, {kind: segKey, key: "Order"}}},
		{name: "star and index", text: "data.*.lines.0", want: []segment{{kind: segKey, key: "data"}, {kind: segStar, key: "*"}, {kind: segKey, key: "lines"}, {kind: segIndex, key: "0", index: 0}}},
		{name: "an escaped dot stays in the key", text: `a\.b.c`, want: []segment{{kind: segKey, key: "a.b"}, {kind: segKey, key: "c"}}},
		{name: "an escaped star is a key", text: `\*`, want: []segment{{kind: segKey, key: "*"}}},
		{name: "an escaped backslash", text: `a\\b`, want: []segment{{kind: segKey, key: `a\b`}}},
		{name: "a leading zero makes a key", text: "01", want: []segment{{kind: segKey, key: "01"}}},
		{name: "attributes and text are keys", text: "Order.-id.#text", want: []segment{{kind: segKey, key: "Order"}, {kind: segKey, key: "-id"}, {kind: segKey, key: "#text"}}},
		{name: "a double dot is refused", text: "a..b", err: "empty segment at byte 2"},
		{name: "a trailing dot is refused", text: "a.", err: "empty segment at byte 2"},
		{name: "a leading dot is refused", text: ".a", err: "empty segment at byte 0"},
		{name: "a trailing backslash is refused", text: `a\`, err: "trailing backslash"},
		{name: "an unknown escape is refused", text: `a\n`, err: `unknown escape \n`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parsePattern(tt.text)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(p.segs) != len(tt.want) {
				t.Fatalf("segments %+v, want %+v", p.segs, tt.want)
			}
			for i := range tt.want {
				if p.segs[i] != tt.want[i] {
					t.Fatalf("segment %d %+v, want %+v", i, p.segs[i], tt.want[i])
				}
			}
			if got := p.String(); got != tt.text {
				t.Fatalf("String() %q, want %q", got, tt.text)
			}
		})
	}
}
