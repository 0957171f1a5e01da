package parsers

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/hookgate/hookgate/configs"
)

// TestByteClasses checks the constant table against the predicates it
// stands for, byte by byte.
func TestByteClasses(t *testing.T) {
	for i := range 256 {
		c := byte(i)
		ascii := c < utf8.RuneSelf
		for _, tc := range []struct {
			class byte
			name  string
			want  bool
		}{
			{cName, "name", ascii && isNameByte(c)},
			{cText, "text", ascii && (c >= 0x20 || c == '\t' || c == '\n') && !strings.ContainsRune(`<&]"'`, rune(c))},
			{cJSON, "JSON", ascii && c >= 0x20 && c != '"' && c != '\\'},
			{cSpace, "space", c == ' ' || c == '\t' || c == '\r' || c == '\n'},
		} {
			if got := byteClass[c]&tc.class != 0; got != tc.want {
				t.Errorf("byte 0x%02x: %s class %v, want %v", c, tc.name, got, tc.want)
			}
		}
	}
}

// keepItems splits body and keeps every Item.Data as handed out, to check
// after the split that nothing wrote over them.
func keepItems(t *testing.T, in configs.Incoming, body []byte, oneByte bool) [][]byte {
	t.Helper()
	s, err := New(in, testMaxBody)
	if err != nil {
		t.Fatal(err)
	}
	r := iotest.HalfReader(bytes.NewReader(body))
	if oneByte {
		r = iotest.OneByteReader(bytes.NewReader(body))
	}
	var kept [][]byte
	if err := s.Split(context.Background(), "application/xml", r, func(it Item) error { kept = append(kept, it.Data); return nil }); err != nil {
		t.Fatalf("split: %v", err)
	}
	return kept
}

// TestSplitXMLKeepsItemsAndNames covers what the fast paths must not break:
// items written into shared chunks, names interned by id and forgotten
// between items, names compared by their first and last eight bytes.
func TestSplitXMLKeepsItemsAndNames(t *testing.T) {
	type shape struct {
		body  string
		items []string
	}
	build := func(n int, item func(i int) (xml, json string)) shape {
		var sh shape
		var b strings.Builder
		b.WriteString("<r>")
		for i := range n {
			x, j := item(i)
			b.WriteString(x)
			sh.items = append(sh.items, j)
		}
		b.WriteString("</r>")
		sh.body = b.String()
		return sh
	}
	cases := []struct {
		name    string
		pattern string
		shape   shape
	}{
		{"items larger than a chunk stay intact beside small ones", "r.a", build(12, func(i int) (string, string) {
			v := strings.Repeat(string(rune('a'+i)), 1+i%3*itemChunk)
			return "<a>" + v + "</a>", `"` + v + `"`
		})},
		{"more distinct names than the intern map keeps still convert", "r.a", build(3*maxNames, func(i int) (string, string) {
			return fmt.Sprintf(`<a n%d="x"><k%d>v</k%d></a>`, i, i, i), fmt.Sprintf(`{"-n%d":"x","k%d":"v"}`, i, i)
		})},
		{"long names that differ only in the middle are different keys", "r.a", build(3, func(i int) (string, string) {
			return "<a><abcdefgh_1_ijklmnop>1</abcdefgh_1_ijklmnop><abcdefgh_2_ijklmnop>2</abcdefgh_2_ijklmnop><abcdefgh_1_ijklmnop>3</abcdefgh_1_ijklmnop></a>",
				`{"abcdefgh_1_ijklmnop":["1","3"],"abcdefgh_2_ijklmnop":"2"}`
		})},
		{"names of 8 and 16 bytes sharing a head or a tail stay apart", "r.a", build(2, func(i int) (string, string) {
			return "<a><ABCDEFGH>1</ABCDEFGH><ABCDEFGHABCDEFGH>2</ABCDEFGHABCDEFGH><ABCDEFG>3</ABCDEFG><BCDEFGH>4</BCDEFGH></a>",
				`{"ABCDEFGH":"1","ABCDEFGHABCDEFGH":"2","ABCDEFG":"3","BCDEFGH":"4"}`
		})},
		{"prefixed names key by their local part", "r.a", build(2, func(i int) (string, string) {
			return `<a x:id="1" id="2"><p:k>v</p:k><k>w</k></a>`, `{"-id":"2","k":["v","w"]}`
		})},
		{"plain text with quotes, tabs and non-ASCII is left in place", "r.a", build(3, func(i int) (string, string) {
			return "<a t='say \"é\"'>l'été\tà\n</a>", `{"-t":"say \"é\"","#text":"l'été\tà"}`
		})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, method := range []string{"full", "incremental"} {
				for _, oneByte := range []bool{false, true} {
					in := configs.Incoming{Name: "t", Parser: "xml", ReadMethod: method, PatternToItems: tc.pattern, MaxItems: len(tc.shape.items)}
					kept := keepItems(t, in, []byte(tc.shape.body), oneByte)
					if len(kept) != len(tc.shape.items) {
						t.Fatalf("%s: %d items, want %d", method, len(kept), len(tc.shape.items))
					}
					for i, k := range kept {
						if string(k) != tc.shape.items[i] {
							t.Fatalf("%s, one byte per read %v: item %d is %.80q, want %.80q", method, oneByte, i, k, tc.shape.items[i])
						}
					}
				}
			}
		})
	}
}

// TestPooledXMLWalkerCarriesNothingOver sends bodies, good and broken,
// through one splitter in turn and expects of each what a fresh splitter
// gives: a walker back from the pool keeps buffers and names, nothing else.
func TestPooledXMLWalkerCarriesNothingOver(t *testing.T) {
	bodies := []string{
		`<Orders><Order id="1"><Sku>A</Sku><Sku>B</Sku></Order></Orders>`,
		`<Orders><Order id="2"><Lines><Line>x</Line>`, // stops inside an item
		`<Orders><Order><Other k="v">t</Other></Order><Order/></Orders>`,
		`<Orders><Order id="3"></Wrong></Orders>`,
		`<Other><Order>not under Orders</Order></Other>`,
		`<Orders date="d"><Order>` + strings.Repeat("<n>1</n>", 40) + `</Order></Orders>`,
		`<Orders><Order id="4"><Sku>C</Sku></Order></Orders>`,
	}
	for _, method := range []string{"full", "incremental"} {
		in := configs.Incoming{Name: "t", Parser: "xml", ReadMethod: method, PatternToItems: "Orders.Order", OnEmpty: "accept"}
		shared, err := New(in, testMaxBody)
		if err != nil {
			t.Fatal(err)
		}
		for round := range 2 {
			for i, body := range bodies {
				fresh, _ := New(in, testMaxBody)
				want := splitWith(t, fresh, "", strings.NewReader(body))
				got := splitWith(t, shared, "", strings.NewReader(body))
				if !sameError(got.err, want.err) || !equalStrings(got.items, want.items) {
					t.Fatalf("%s, round %d, body %d: got %q (%v), a fresh splitter gives %q (%v)", method, round, i, got.items, got.err, want.items, want.err)
				}
			}
		}
	}
}

// TestConcurrentXMLSplitsShareOneSplitter runs requests with different
// names through one XML splitter at once; run with -race.
func TestConcurrentXMLSplitsShareOneSplitter(t *testing.T) {
	for _, method := range []string{"full", "incremental"} {
		s, _ := New(configs.Incoming{Name: "t", Parser: "xml", ReadMethod: method, PatternToItems: "r.a"}, testMaxBody)
		splitConcurrently(t, method, s, 8, func(g int) (string, []string) {
			return fmt.Sprintf(`<r><a k%d="%d"><n%d>v%d</n%d></a><a k%d="%d"/></r>`, g, g, g, g, g, g, g),
				[]string{fmt.Sprintf(`{"-k%d":"%d","n%d":"v%d"}`, g, g, g, g), fmt.Sprintf(`{"-k%d":"%d"}`, g, g)}
		})
	}
}
