package parsers

import (
	"strings"
	"testing"

	"github.com/hookgate/hookgate/configs"
)

// TestIncrementalSkipsHugeTextInBoundedMemory streams bodies with 32 MiB of
// text that no item keeps: whitespace or character data between items (in a
// parent that is no item, so mixed content mxj would not make an item of),
// and whitespace before and after the root. The live heap must stay far
// below that size, and the items must be those of the body without it.
func TestIncrementalSkipsHugeTextInBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 32 MiB per case")
	}
	cases := []hugeFill{ // the body without the text is withoutHead+after
		{name: "whitespace between items", pattern: "Orders.Order",
			head: "<Orders><Order>1</Order>", fill: "  \n\t \r\n", tail: "<Order>2</Order></Orders>",
			withoutHead: "<Orders><Order>1</Order>", after: "<Order>2</Order></Orders>"},
		{name: "plain text between items", pattern: "Orders.Order",
			head: "<Orders><Order>1</Order>", fill: "lorem ipsum 'dolor' \"sit\" amet\n", tail: "<Order k='v'>2</Order></Orders>",
			withoutHead: "<Orders><Order>1</Order>", after: "<Order k='v'>2</Order></Orders>"},
		{name: "non-ASCII text between items", pattern: "Orders.Order",
			head: "<Orders><Order>1</Order>", fill: "grüße, 東京, 🦫 ] ]] \n", tail: "<Order>2</Order></Orders>",
			withoutHead: "<Orders><Order>1</Order>", after: "<Order>2</Order></Orders>"},
		{name: "text with entities and a CR/LF mix between items", pattern: "Orders.Order",
			head: "<Orders><Order>1</Order>", fill: "a &amp; b &lt;c&gt; &#x20;&#10;\r\n d\r&quot;&apos;\n\r", tail: "<Order>2</Order></Orders>",
			withoutHead: "<Orders><Order>1</Order>", after: "<Order>2</Order></Orders>"},
		{name: "text deeper in a parent that is no item", pattern: "Orders.Order",
			head: "<Orders><Order>1</Order><Note>", fill: "note text \r\n", tail: "</Note><Order>2</Order></Orders>",
			withoutHead: "<Orders><Order>1</Order><Note>", after: "</Note><Order>2</Order></Orders>"},
		{name: "whitespace before the root", pattern: "r.a",
			head: "<?xml version=\"1.0\"?>", fill: " \r\n\t\n", tail: "<r><a>1</a></r>",
			withoutHead: "<?xml version=\"1.0\"?>", after: "<r><a>1</a></r>"},
		{name: "whitespace and space references after the root", pattern: "r.a",
			head: "<r><a>1</a></r>", fill: "\n &#32;\t\r\n&#x9;", tail: "\n",
			withoutHead: "<r><a>1</a></r>", after: "\n"},
		{name: "a CDATA section between items", pattern: "Orders.Order",
			head: "<Orders><Order>1</Order><![CDATA[", fill: "<x> & ]] ]>\n", tail: "]]><Order>2</Order></Orders>",
			withoutHead: "<Orders><Order>1</Order>", after: "<Order>2</Order></Orders>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := configs.Incoming{Name: "m", Parser: "xml", PatternToItems: tc.pattern}
			want := splitBoth(t, in, "application/xml", []byte(tc.withoutHead+tc.after))
			if want.err != nil || len(want.items) == 0 {
				t.Fatalf("the body without the text: %q, %v", want.items, want.err)
			}
			// A small dose of the filler changes no item in full mode
			// either, nor in mxj: the text is in no item.
			small := []byte(tc.head + strings.Repeat(tc.fill, 3) + tc.tail)
			if res := splitBoth(t, in, "application/xml", small); res.err != nil || !equalStrings(res.items, want.items) {
				t.Fatalf("with a little filler: %q (%v), want %q", res.items, res.err, want.items)
			}
			compareWithMXJ(t, xmlCase{pattern: tc.pattern, body: small}, want.items)
			streamHugeFill(t, in, tc, want.items, "text")
		})
	}
}

// TestSkippedTextKeepsItsRules pins what text no item keeps is refused
// with, and where: the same characters, references and positions as when
// that text was kept, in full and incremental mode, one byte per read, and
// split at every offset near the start and the end of the body, so that the
// text's start, the error and every reference fall across a refill. Text
// that items keep is in the table too, to show it is unchanged.
func TestSkippedTextKeepsItsRules(t *testing.T) {
	const big = 70 << 10 // more than the scanner's window, so it has to let go of it
	pad := strings.Repeat(" \r\n\t", big/4)
	cases := []ruleCase{
		{name: "a control character between items is refused where it is", pattern: "r.a", body: "<r><a>1</a>\nab\x01c<a>2</a></r>",
			msg: "invalid XML at line 2, column 3: illegal character code U+0001"},
		{name: "invalid UTF-8 between items is refused where it is", pattern: "r.a", body: "<r><a>1</a>ab\xffc<a>2</a></r>",
			msg: "invalid XML at line 1, column 14: invalid UTF-8"},
		{name: "a non-character between items is refused where it is", pattern: "r.a", body: "<r><a>1</a>ab\uFFFEc<a>2</a></r>",
			msg: "invalid XML at line 1, column 14: illegal character code U+FFFE"},
		{name: "an undeclared entity between items is refused", pattern: "r.a", body: "<r><a>1</a>a &bogus; b<a>2</a></r>",
			msg: "invalid XML at line 1, column 21: invalid character entity &bogus;"},
		{name: "an entity without a semicolon between items is refused", pattern: "r.a", body: "<r><a>1</a>a &amp b<a>2</a></r>",
			msg: "invalid XML at line 1, column 18: invalid character entity &amp (no semicolon)"},
		{name: "a reference to a non-character between items is refused", pattern: "r.a", body: "<r><a>1</a>&#0;<a>2</a></r>",
			msg: "invalid XML at line 1, column 16: illegal character code U+0000"},
		{name: "]]> between items is refused", pattern: "r.a", body: "<r><a>1</a>a ]]> b<a>2</a></r>",
			msg: "invalid XML at line 1, column 14: unescaped ]]> not in CDATA section"},
		{name: "a bad entity after huge text between items is refused where it is", pattern: "r.a", body: "<r><a>1</a>" + pad + "x&nope;<a>2</a></r>",
			msg: "invalid XML at line 17921, column 9: invalid character entity &nope;"},
		{name: "a control character in huge whitespace is refused where it is", pattern: "r.a", body: "<r><a>1</a>" + pad + "\x0b<a>2</a></r>",
			msg: "invalid XML at line 17921, column 2: illegal character code U+000B"},
		{name: "text before the root is refused at its start", pattern: "r.a", body: "\n  x <r><a>1</a></r>",
			msg: "invalid XML at line 1, column 1: text outside the root element"},
		{name: "text after the root is refused at its start", pattern: "r.a", body: "<r><a>1</a></r>\n  tail",
			msg: "invalid XML at line 1, column 16: text outside the root element"},
		{name: "text after huge whitespace after the root is refused at the whitespace's start", pattern: "r.a", body: "<r><a>1</a></r>" + pad + "tail",
			msg: "invalid XML at line 1, column 16: text outside the root element"},
		{name: "text after huge whitespace before the root is refused at the whitespace's start", pattern: "r.a", body: "<?xml version='1.0'?>" + pad + "x<r><a>1</a></r>",
			msg: "invalid XML at line 1, column 22: text outside the root element"},
		{name: "a character reference after the root is text outside it", pattern: "r.a", body: "<r><a>1</a></r>&#32;&#65;",
			msg: "invalid XML at line 1, column 16: text outside the root element"},
		{name: "a bad entity after the root is refused as an entity", pattern: "r.a", body: "<r><a>1</a></r> &bogus;",
			msg: "invalid XML at line 1, column 24: invalid character entity &bogus;"},
		{name: "a CDATA section with text after the root is refused at its start", pattern: "r.a", body: "<r><a>1</a></r>\n<![CDATA[x]]>",
			msg: "invalid XML at line 2, column 1: text outside the root element"},
		{name: "a CDATA section open at EOF between items is refused at the end", pattern: "r.a", body: "<r><a>1</a><![CDATA[ab\n]",
			msg: "invalid XML at line 2, column 2: unexpected EOF in CDATA section"},
		{name: "a control character in a CDATA section between items is refused", pattern: "r.a", body: "<r><a>1</a><![CDATA[a\x02]]><a>2</a></r>",
			msg: "invalid XML at line 1, column 22: illegal character code U+0002"},
		{name: "whitespace and space references around the root are allowed", pattern: "r.a", body: " \r\n<r><a>1</a></r>&#32;&#x9;&#10;&#13;\r\n\t", items: []string{`"1"`}},
		{name: "blank CDATA sections around the root are allowed", pattern: "r.a", body: "<![CDATA[ \n]]><r><a>1</a></r><![CDATA[]]>", items: []string{`"1"`}},
		{name: "huge whitespace around the root is allowed", pattern: "r.a", body: pad + "<r><a>1</a></r>" + pad, items: []string{`"1"`}},
		{name: "mixed text in a parent that is no item is dropped", pattern: "r.a", body: "<r>x &amp; y<a>1</a>] ]]<a>2</a>z<![CDATA[c]]></r>", items: []string{`"1"`, `"2"`}},
		{name: "text inside an item keeps its references and newlines", pattern: "r.a", body: "<r><a>x &amp;\r\n y&#x41;\r</a></r>", items: []string{`"x &\n yA"`}},
		{name: "huge text inside an item is kept whole", pattern: "r", body: "<r>a" + pad + "b</r>", items: []string{`"a` + strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(pad, "\r\n", "\\n"), "\t", "\\t"), "\r", "\\n") + `b"`}},
		{name: "text of an element whose #text is the item is kept", pattern: "r.a.#text", body: "<r><a k='1'>one &lt; two</a><a k='2'><![CDATA[three]]></a></r>", items: []string{`"one < two"`, `"three"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { checkRule(t, tc, textCuts(len(tc.body))) })
	}
}

// textCuts are the offsets to split a body of n bytes at: every one of a
// short body, else the first and the last 64, where these tests put the
// text's start, its references and its errors.
func textCuts(n int) []int {
	var at []int
	for c := 1; c < n; c++ {
		if n <= 256 || c < 64 || c >= n-64 {
			at = append(at, c)
		}
	}
	return at
}

// BenchmarkSplitXMLSkipText measures how fast an incremental split passes
// over 8 MiB of mixed text between two items, in a parent that is no item:
// plain words, a reference every 48 bytes, CR/LF line ends.
func BenchmarkSplitXMLSkipText(b *testing.B) {
	const size = 8 << 20
	const fill = "lorem ipsum dolor sit amet &amp; consectetur\r\n"
	body := []byte("<r><a>1</a>" + strings.Repeat(fill, size/len(fill)) + "<a>2</a></r>")
	benchSplitReader(b, configs.Incoming{Name: "b", Parser: "xml", ReadMethod: "incremental", PatternToItems: "r.a"}, body)
}
