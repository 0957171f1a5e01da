package parsers

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/configs"
)

// TestHostileShapes feeds shapes that break naive parsers: each must finish
// in linear time with the right answer (a quadratic path would time out).
func TestHostileShapes(t *testing.T) {
	const n = 50000
	var attrs, kids, header, row strings.Builder
	for i := range n {
		fmt.Fprintf(&attrs, ` a%d="v"`, i)
		fmt.Fprintf(&kids, `<k%d/>`, i)
		if i > 0 {
			header.WriteByte(',')
			row.WriteByte(',')
		}
		fmt.Fprintf(&header, "f%d", i)
		row.WriteString("x")
	}
	t.Run("many attributes selected by star", func(t *testing.T) {
		res := splitBoth(t, configs.Incoming{Name: "h", Parser: "xml", PatternToItems: "r.e.*"}, "", []byte("<r><e"+attrs.String()+"/></r>"))
		if res.err != nil || len(res.items) != n {
			t.Fatalf("%d items, error %v", len(res.items), res.err)
		}
	})
	t.Run("many distinct children in one item", func(t *testing.T) {
		res := splitBoth(t, configs.Incoming{Name: "h", Parser: "xml"}, "", []byte("<r>"+kids.String()+"</r>"))
		if res.err != nil || len(res.items) != 1 || strings.Count(res.items[0], `:""`) != n {
			t.Fatalf("error %v", res.err)
		}
	})
	t.Run("a wide CSV header", func(t *testing.T) {
		res := splitBoth(t, configs.Incoming{Name: "h", Parser: "csv"}, "", []byte(header.String()+"\n"+row.String()+"\n"))
		if res.err != nil || len(res.items) != 1 {
			t.Fatalf("error %v", res.err)
		}
	})
	for _, tc := range []struct{ name, parser, body string }{
		{"JSON arrays", "json", strings.Repeat("[", 1<<20)},
		{"JSON objects", "json", strings.Repeat(`{"a":`, 1<<20)},
		{"XML elements", "xml", strings.Repeat("<a>", 1<<20)},
	} {
		t.Run("a million levels of "+tc.name+" stop at 512", func(t *testing.T) {
			res := splitBoth(t, configs.Incoming{Name: "h", Parser: tc.parser, PatternToItems: "a"}, "", []byte(tc.body))
			wantErr(t, res.err, http.StatusBadRequest, "nesting deeper than 512")
		})
	}
}
