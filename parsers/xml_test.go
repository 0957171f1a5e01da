package parsers

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/clbanning/mxj/v2"
	"github.com/hookgate/hookgate/configs"
)

// xmlCase is one XML body; its items are kept in testdata/xml/<golden>.json.
type xmlCase struct {
	golden  string
	name    string
	pattern string
	ct      string
	cast    bool
	body    []byte
	oracle  bool // compare with mxj: the whole document, and ValuesForPath
}

func utf16Body(s string, bigEndian bool) []byte {
	u := utf16.Encode([]rune(s))
	b := []byte{0xFF, 0xFE}
	if bigEndian {
		b = []byte{0xFE, 0xFF}
	}
	for _, c := range u {
		if bigEndian {
			b = append(b, byte(c>>8), byte(c))
		} else {
			b = append(b, byte(c), byte(c>>8))
		}
	}
	return b
}

const ordersXML = `<?xml version="1.0" encoding="UTF-8"?>
<!-- an ERP export -->
<Orders date="2026-11-25">
  <Order id="1"><Sku>A-1</Sku><Qty>2</Qty><Note/></Order>
  <Order id="2"><Sku>B-7</Sku><Qty>10</Qty><Lines><Line>x</Line><Line>y</Line></Lines></Order>
</Orders>`

const oneOrderXML = `<Orders><Order id="1"><Sku>A-1</Sku></Order></Orders>`

var xmlCases = []xmlCase{
	{golden: "orders", name: "Orders.Order yields one item per Order", pattern: "Orders.Order", body: []byte(ordersXML), oracle: true},
	{golden: "one-order", name: "one Order is one item", pattern: "Orders.Order", body: []byte(oneOrderXML), oracle: true},
	{golden: "orders-whole", name: "no pattern yields the document with its root", body: []byte(ordersXML), oracle: true},
	{golden: "orders-first", name: "an index counts repeated siblings", pattern: "Orders.Order.1", body: []byte(ordersXML)},
	{golden: "one-order-first", name: "index 0 of a single element is that element", pattern: "Orders.Order.0", body: []byte(oneOrderXML)},
	{golden: "orders-sku", name: "a key passes through repeated elements", pattern: "Orders.Order.Sku", body: []byte(ordersXML), oracle: true},
	{golden: "orders-lines", name: "a selected repetition yields each element", pattern: "Orders.Order.Lines.Line", body: []byte(ordersXML), oracle: true},
	{golden: "orders-ids", name: "an attribute segment yields attribute values", pattern: "Orders.Order.-id", body: []byte(ordersXML), oracle: true},
	{golden: "orders-star", name: "star yields attributes then children in document order", pattern: "Orders.*", body: []byte(`<Orders date="d"><Order>1</Order><Note>n</Note><Order>2</Order></Orders>`)},
	{golden: "root-star", name: "star on the document yields the root value", pattern: "*", body: []byte(oneOrderXML), oracle: true},
	{golden: "namespaces", name: "namespaces reduce to local names", pattern: "Orders.Order", body: []byte(`<ns:Orders xmlns:ns="urn:x" xmlns="urn:d"><ns:Order ns:id="1" id="2"><Sku>A</Sku></ns:Order></ns:Orders>`), oracle: true},
	{golden: "attribute-text", name: "text beside attributes is #text", body: []byte(`<Price currency="EUR"> 9.95 </Price>`), oracle: true},
	{golden: "cdata", name: "CDATA is text", body: []byte(`<a><![CDATA[<b>&x</b>]]></a>`), oracle: true},
	{golden: "mixed", name: "mixed text keeps what mxj keeps", body: []byte(`<p>Hello <b>world</b> again<i/>end</p>`), oracle: true},
	{golden: "mixed-after", name: "text only after a child is #text", body: []byte(`<p><b>world</b> again</p>`), oracle: true},
	{golden: "siblings", name: "non-adjacent repeated siblings form one array", body: []byte(`<r><a>1</a><b>2</b><a>3</a></r>`), oracle: true},
	{golden: "empty", name: "empty elements are empty strings", body: []byte(`<r><e/><f></f><g>  </g></r>`), oracle: true},
	{golden: "entities", name: "character references are decoded", body: []byte(`<r a="&quot;q&quot;">&lt;&amp;&#233;&#x20AC;</r>`), oracle: true},
	{golden: "strings", name: "values stay strings without cast", body: []byte(`<r><n>007</n><b>true</b></r>`), oracle: true},
	{golden: "cast", name: "cast makes numbers and booleans as mxj does", cast: true, body: []byte(`<r><n>007</n><f>1.50</f><e>1e21</e><b>true</b><B>F</B><s>abc</s><inf>Inf</inf><big>1e400</big><x a="12"/></r>`), oracle: true},
	{golden: "iso-8859-1", name: "ISO-8859-1 becomes UTF-8", body: []byte("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<r>caf\xe9 \xfc</r>"), oracle: true},
	{golden: "windows-1252", name: "windows-1252 becomes UTF-8", body: []byte("<?xml version=\"1.0\" encoding=\"windows-1252\"?><r>\x80 \x93q\x94</r>"), oracle: true},
	{golden: "utf-16le", name: "UTF-16LE with a byte order mark", body: utf16Body(`<?xml version="1.0" encoding="UTF-16"?><r a="é">€ ok</r>`, false)},
	{golden: "utf-16be", name: "UTF-16BE with a byte order mark", body: utf16Body(`<?xml version="1.0" encoding="UTF-16"?><r>€ ok</r>`, true)},
	{golden: "charset-param", name: "the Content-Type charset decodes a body without declaration", ct: "text/xml; charset=ISO-8859-1", body: []byte("<r>caf\xe9</r>")},
	{golden: "utf8-bom", name: "a UTF-8 byte order mark is skipped", body: []byte("\xef\xbb\xbf<r>x</r>"), oracle: true},
	{golden: "escapes", name: "control and quote characters are escaped in JSON", body: []byte("<r q='\"\\'>tab\there</r>"), oracle: true},
}

func TestSplitXML(t *testing.T) {
	for _, tc := range xmlCases {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.ct
			if ct == "" {
				ct = "application/xml"
			}
			in := configs.Incoming{Name: "t", Parser: "xml", PatternToItems: tc.pattern, XML: configs.XMLOptions{Cast: tc.cast}}
			res := splitBoth(t, in, ct, tc.body)
			if res.err != nil {
				t.Fatalf("error %v", res.err)
			}
			for _, it := range res.items {
				if !json.Valid([]byte(it)) {
					t.Fatalf("item is not JSON: %s", it)
				}
			}
			got := strings.Join(res.items, "\n") + "\n"
			path := filepath.Join("testdata", "xml", tc.golden+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("golden file: %v (run go test -update)", err)
			}
			if got != string(want) {
				t.Fatalf("items:\n%s\nwant (%s):\n%s", got, path, want)
			}
			if tc.oracle {
				compareWithMXJ(t, tc, res.items)
			}
		})
	}
}

// compareWithMXJ checks the items against mxj itself, so the conversion
// cannot drift from what the SPEC promises.
func compareWithMXJ(t *testing.T, tc xmlCase, items []string) {
	t.Helper()
	m, err := mxj.NewMapXml(tc.body, tc.cast)
	if err != nil {
		t.Fatalf("mxj: %v", err)
	}
	var want []any
	if tc.pattern == "" {
		want = []any{map[string]any(m)}
	} else if want, err = m.ValuesForPath(tc.pattern); err != nil {
		t.Fatalf("mxj ValuesForPath: %v", err)
	}
	var got []any
	for _, it := range items {
		var v any
		if err := json.Unmarshal([]byte(it), &v); err != nil {
			t.Fatalf("item %s: %v", it, err)
		}
		got = append(got, v)
	}
	// mxj's values go through JSON too, so numbers compare as float64.
	wantJSON, err := json.Marshal(want)
	if err != nil {
		t.Fatalf("mxj value to JSON: %v", err)
	}
	var wantNorm []any
	if err := json.Unmarshal(wantJSON, &wantNorm); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, wantNorm) {
		t.Fatalf("items differ from mxj:\n got %s\nwant %s", mustJSON(got), wantJSON)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func TestSplitXMLRejects(t *testing.T) {
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>`
	tests := []struct {
		name    string
		pattern string
		body    string
		status  int
		msg     string
	}{
		{name: "a mismatched end tag names line and column", body: "<a>\n<b>\n</a>", status: http.StatusBadRequest, msg: "invalid XML at line 3, column 1: element <b> closed by </a>"},
		{name: "nesting of 513 is refused", body: strings.Repeat("<a>", 513) + strings.Repeat("</a>", 513), status: http.StatusBadRequest, msg: "nesting deeper than 512"},
		{name: "entity expansion is refused", body: laughs, status: http.StatusBadRequest, msg: "invalid XML at line 1, column"},
		{name: "an undefined entity is refused", body: "<a>&foo;</a>", status: http.StatusBadRequest, msg: "invalid XML at line 1, column"},
		{name: "invalid UTF-8 is refused", body: "<a>\xff</a>", status: http.StatusBadRequest, msg: "invalid XML at line 1, column"},
		{name: "an empty body has no root", body: "", status: http.StatusBadRequest, msg: "invalid XML at line 1, column 1: no root element"},
		{name: "a truncated body is refused", body: "<a><b>", status: http.StatusBadRequest, msg: "invalid XML at line 1, column 7: unexpected end of input, <b> is not closed"},
		{name: "a second root is refused", body: "<a/><b/>", status: http.StatusBadRequest, msg: "invalid XML at line 1, column 5: second root element <b>"},
		{name: "text after the root is refused", body: "<a/>x", status: http.StatusBadRequest, msg: "invalid XML at line 1, column 5: text outside the root element"},
		{name: "an unknown declared encoding is refused", body: `<?xml version="1.0" encoding="klingon"?><a/>`, status: http.StatusBadRequest, msg: `invalid XML at line 1, column 1: unsupported encoding "klingon"`},
		{name: "a late error fails the whole body", pattern: "r.i", body: "<r><i>1</i><i>2</i><i>3</x></r>", status: http.StatusBadRequest, msg: "invalid XML at line 1, column 24: element <i> closed by </x>"},
		{name: "a NUL character is refused", body: "<a>x\x00y</a>", status: http.StatusBadRequest, msg: "invalid XML at line 1, column 5: illegal character code U+0000"},
		{name: "a control character in an attribute is refused", body: "<a b='\x01'/>", status: http.StatusBadRequest, msg: "invalid XML at line 1, column 7: illegal character code U+0001"},
		{name: "a character reference to NUL is refused", body: "<a>&#0;</a>", status: http.StatusBadRequest, msg: "invalid XML at line 1, column 8: illegal character code U+0000"},
		{name: "]]> in text is refused", body: "<a>]]></a>", status: http.StatusBadRequest, msg: "invalid XML at line 1, column 4: unescaped ]]> not in CDATA section"},
		{name: "-- in a comment is refused", body: "<a><!-- x -- y --></a>", status: http.StatusBadRequest, msg: `invalid XML at line 1, column 13: invalid sequence "--" not allowed in comments`},
		{name: "< in an attribute value is refused", body: "<a b='<'/>", status: http.StatusBadRequest, msg: "invalid XML at line 1, column 7: unescaped < inside quoted string"},
		{name: "an unquoted attribute is refused", body: "<a b=c/>", status: http.StatusBadRequest, msg: "invalid XML at line 1, column 6: unquoted or missing attribute value"},
		{name: "a name with two colons is refused", body: "<a:b:c/>", status: http.StatusBadRequest, msg: "invalid XML at line 1, column 7: invalid XML name a:b:c: more than one colon"},
		{name: "a name starting with a digit is refused", body: "<1a/>", status: http.StatusBadRequest, msg: "invalid XML at line 1, column 4: invalid XML name"},
		{name: "an unterminated CDATA section is refused", body: "<a><![CDATA[x", status: http.StatusBadRequest, msg: "invalid XML at line 1, column 14: unexpected EOF in CDATA section"},
		{name: "<!- without a second dash is refused", body: "<a><!-x--></a>", status: http.StatusBadRequest, msg: "invalid XML at line 1, column 6: invalid sequence <!- not part of <!--"},
		{name: "<![ that is not CDATA is refused", body: "<a><![x[]]></a>", status: http.StatusBadRequest, msg: "invalid XML at line 1, column 6: invalid <![ sequence"},
		{name: "the byte after <! never ends a directive", body: "<p><!></p>", status: http.StatusBadRequest, msg: "invalid XML at line 1, column 11: unexpected EOF"},
		{name: "a Content-Type charset nobody knows is a 415", body: "<a/>", status: http.StatusUnsupportedMediaType, msg: `unsupported charset "x-klingon" in Content-Type`},
		{name: "nothing matched is a 422 naming the pattern", pattern: "Orders.Order", body: "<Orders/>", status: http.StatusUnprocessableEntity, msg: `pattern_to_items "Orders.Order" matched nothing`},
		{name: "the root must match the first segment", pattern: "Order", body: oneOrderXML, status: http.StatusUnprocessableEntity, msg: `pattern_to_items "Order" matched nothing`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct := "application/xml"
			if tt.status == http.StatusUnsupportedMediaType {
				ct = "application/xml; charset=x-klingon"
			}
			res := splitBoth(t, configs.Incoming{Name: "t", Parser: "xml", PatternToItems: tt.pattern}, ct, []byte(tt.body))
			wantErr(t, res.err, tt.status, tt.msg)
			if tt.status == http.StatusBadRequest && !strings.Contains(tt.msg, "nesting") {
				if err := stdXMLError([]byte(tt.body)); err == nil && !ourStricterRule(res.err) {
					t.Fatalf("encoding/xml accepts what we refuse")
				}
			}
		})
	}
}

// TestSplitXMLHugeText checks that a text node far larger than any buffer
// is carried through whole.
func TestSplitXMLHugeText(t *testing.T) {
	big := strings.Repeat("x", 3<<20)
	res := splitBoth(t, configs.Incoming{Name: "t", Parser: "xml", PatternToItems: "r.a"}, "text/xml", []byte("<r><a>"+big+"</a><a>y</a></r>"))
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(res.items) != 2 || res.items[0] != `"`+big+`"` || res.items[1] != `"y"` {
		t.Fatalf("got %d items", len(res.items))
	}
}
