package parsers

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/hookgate/hookgate/configs"
)

// fillReader yields n bytes of pattern repeated, holding nothing but the
// pattern, and samples the live heap every 4 MiB it hands out: the peak
// while a comment is skipped is what matters, not only the one at an item.
type fillReader struct {
	pattern []byte
	n       int64
	done    int64
	heap    *heapPeak
}

func (f *fillReader) Read(p []byte) (int, error) {
	if f.done == f.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), f.n-f.done)]
	for i := range p {
		p[i] = f.pattern[(f.done+int64(i))%int64(len(f.pattern))]
	}
	const every = 4 << 20
	if f.heap != nil && (f.done+int64(len(p)))/every != f.done/every {
		f.heap.sample()
	}
	f.done += int64(len(p))
	return len(p), nil
}

// heapPeak records the largest live heap seen after a collection.
type heapPeak struct{ base, peak uint64 }

func newHeapPeak() *heapPeak {
	h := &heapPeak{}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	h.base = ms.HeapAlloc
	return h
}

func (h *heapPeak) sample() {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	h.peak = max(h.peak, ms.HeapAlloc)
}

func (h *heapPeak) grown() int64 { return int64(h.peak) - int64(h.base) }

// hugeFill is a body of head, fill repeated to about hugeFillSize bytes,
// and tail, that must split into the items of withoutHead+after.
type hugeFill struct {
	name, pattern      string
	head, fill, tail   string
	withoutHead, after string
}

const (
	hugeFillSize  = 32 << 20
	hugeFillLimit = 4 << 20 // live heap growth allowed while streaming it
)

// streamHugeFill splits tc incrementally from a reader that never holds
// the body and fails unless the items are want and the live heap grew by
// under hugeFillLimit; what names the fill in messages.
func streamHugeFill(t *testing.T, in configs.Incoming, tc hugeFill, want []string, what string) {
	t.Helper()
	in.ReadMethod = "incremental"
	s, err := New(in, testMaxBody)
	if err != nil {
		t.Fatal(err)
	}
	n := int64(hugeFillSize / len(tc.fill) * len(tc.fill)) // whole patterns, so markup and entities stay whole
	heap := newHeapPeak()
	body := io.MultiReader(strings.NewReader(tc.head), &fillReader{pattern: []byte(tc.fill), n: n, heap: heap}, strings.NewReader(tc.tail))
	var got []string
	err = s.Split(context.Background(), "application/xml", body, func(it Item) error {
		got = append(got, string(it.Data))
		heap.sample()
		return nil
	})
	if err != nil || !equalStrings(got, want) {
		t.Fatalf("items %.200q (%v), want %q as without the %s", got, err, want, what)
	}
	t.Logf("live heap: %d KiB before, at most %d KiB while skipping %d MiB", heap.base>>10, heap.peak>>10, n>>20)
	if heap.grown() > hugeFillLimit {
		t.Fatalf("live heap grew by %d bytes while skipping %d bytes of %s; want under %d", heap.grown(), n, what, hugeFillLimit)
	}
}

// TestIncrementalSkipsHugeMarkupInBoundedMemory streams bodies with a 32 MiB
// comment, processing instruction or DOCTYPE internal subset through an
// incremental split: the live heap must stay far below that size, and the
// items must be those of the same body without it.
func TestIncrementalSkipsHugeMarkupInBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 32 MiB per case")
	}
	cases := []hugeFill{ // the body without the markup is withoutHead+after
		{name: "a comment between items", pattern: "r.a",
			head: "<r><a>1</a>\n<!--", fill: " lorem - ipsum -\n", tail: "-->\n<a k='v'>2</a></r>",
			withoutHead: "<r><a>1</a>\n", after: "\n<a k='v'>2</a></r>"},
		{name: "a comment inside an item", pattern: "r.a",
			head: "<r><a><b>1</b>x<!--", fill: "no, a single - dash\n", tail: "--><b>2</b>y</a><a>3</a></r>",
			withoutHead: "<r><a><b>1</b>x", after: "<b>2</b>y</a><a>3</a></r>"},
		{name: "a comment before the root", pattern: "r.a",
			head: "<?xml version=\"1.0\"?>\n<!--", fill: "<a>not an item</a>\n", tail: "-->\n<r><a>1</a></r>",
			withoutHead: "<?xml version=\"1.0\"?>\n", after: "\n<r><a>1</a></r>"},
		{name: "a comment after the root", pattern: "r.a",
			head: "<r><a>1</a></r>\n<!--", fill: "trailing - ", tail: "-->\n",
			withoutHead: "<r><a>1</a></r>\n", after: "\n"},
		{name: "a processing instruction between items", pattern: "r.a",
			head: "<r><a>1</a><?pi ", fill: "what? <a>? >\n", tail: "?><a>2</a></r>",
			withoutHead: "<r><a>1</a>", after: "<a>2</a></r>"},
		{name: "a processing instruction inside an item", pattern: "r",
			head: "<r><a>1</a><?pi ", fill: "x?y\n", tail: "?><a>2</a></r>",
			withoutHead: "<r><a>1</a>", after: "<a>2</a></r>"},
		{name: "a DOCTYPE with a huge internal subset", pattern: "r.a",
			head: "<!DOCTYPE r [\n", fill: "<!ENTITY e \"v>\"> <!-- c > --> <!ELEMENT a ANY>\n", tail: "]>\n<r><a>1</a><a>2</a></r>",
			withoutHead: "", after: "\n<r><a>1</a><a>2</a></r>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := configs.Incoming{Name: "m", Parser: "xml", PatternToItems: tc.pattern}
			want := splitBoth(t, in, "application/xml", []byte(tc.withoutHead+tc.after))
			if want.err != nil || len(want.items) == 0 {
				t.Fatalf("the body without the markup: %q, %v", want.items, want.err)
			}
			streamHugeFill(t, in, tc, want.items, "markup")
		})
	}
}

// splitAtReader hands out its body in two reads, split at cut, so that the
// scanner must refill right there.
type splitAtReader struct {
	body []byte
	cut  int
}

func (r *splitAtReader) Read(p []byte) (int, error) {
	if len(r.body) == 0 {
		return 0, io.EOF
	}
	end := len(r.body)
	if r.cut > 0 {
		end = r.cut
	}
	n := copy(p, r.body[:end])
	r.body, r.cut = r.body[n:], max(r.cut-n, 0)
	return n, nil
}

// TestSkippedMarkupKeepsItsRules pins what comments, processing
// instructions and directives are accepted and refused with, in full and
// incremental mode (one byte per read included, so every end marker falls
// across a refill), as before they were skipped in a streaming way.
func TestSkippedMarkupKeepsItsRules(t *testing.T) {
	const big = 70 << 10 // more than the scanner's window, so it has to let go of it
	cases := []ruleCase{
		{name: "a comment between items is dropped", pattern: "r.a", body: "<r><a>1</a><!-- c --><a>2</a></r>", items: []string{`"1"`, `"2"`}},
		{name: "an empty comment is a comment", pattern: "r.a", body: "<r><a>1</a><!----></r>", items: []string{`"1"`}},
		{name: "single dashes inside a comment are allowed", pattern: "r.a", body: "<r><!---a-b- -><a>1</a>--><a>2</a></r>", items: []string{`"2"`}},
		{name: "text around a comment inside an item keeps the last piece", pattern: "r.a", body: "<r><a>x<!-- c -->y</a></r>", items: []string{`"y"`}},
		{name: "a comment between children of an item is dropped", pattern: "r.a", body: "<r><a><b>1</b><!-- c --><b>2</b></a></r>", items: []string{`{"b":["1","2"]}`}},
		{name: "a huge comment between children of an item is dropped", pattern: "r.a", body: "<r><a><b>1</b><!--" + strings.Repeat("- \n", big/3) + "--><b>2</b></a></r>", items: []string{`{"b":["1","2"]}`}},
		{name: "a processing instruction with ? and > inside is dropped", pattern: "r.a", body: "<r><?pi a?b > c??><a>1</a></r>", items: []string{`"1"`}},
		{name: "a DOCTYPE with quotes, nesting and comments is dropped", pattern: "r.a", body: `<!DOCTYPE r [<!ENTITY e "a>b"><!-- x > y --><!ELEMENT r (a)*>]><r><a>1</a></r>`, items: []string{`"1"`}},
		{name: "---> ends no comment", pattern: "r.a", body: "<r><a>1</a><!-- c ---><a>2</a></r>",
			msg: `invalid XML at line 1, column 21: invalid sequence "--" not allowed in comments`},
		{name: "---> after a huge comment is refused where it is", pattern: "r.a", body: "<r><a>1</a>\n<!--" + strings.Repeat("ab\n", big/3) + "---><a>2</a></r>",
			msg: `invalid XML at line 23895, column 3: invalid sequence "--" not allowed in comments`},
		{name: "a comment open at EOF is refused at the end", pattern: "r.a", body: "<r><a>1</a>\n<!-- c\nd",
			msg: "invalid XML at line 3, column 2: unexpected EOF"},
		{name: "a huge comment open at EOF is refused at the end", pattern: "r.a", body: "<r><a>1</a>\n<!--" + strings.Repeat("a-\n", big/3) + "-",
			msg: "invalid XML at line 23895, column 2: unexpected EOF"},
		{name: "a comment ending -- at EOF is refused at the end", pattern: "r.a", body: "<r><!-- c --",
			msg: "invalid XML at line 1, column 13: unexpected EOF"},
		{name: "a processing instruction open at EOF is refused at the end", pattern: "r.a", body: "<r><?pi " + strings.Repeat("?\n", big/2) + "?",
			msg: "invalid XML at line 35841, column 2: unexpected EOF"},
		{name: "a processing instruction without a target is refused", pattern: "r.a", body: "<r><? x?></r>",
			msg: "invalid XML at line 1, column 6: expected processing instruction target name, found ' '"},
		{name: "a DOCTYPE open at EOF is refused at the end", pattern: "r.a", body: "<!DOCTYPE r [\n" + strings.Repeat("<!ENTITY e 'v'>\n", big/16),
			msg: "invalid XML at line 4482, column 1: unexpected EOF"},
		{name: "a comment inside a DOCTYPE open at EOF is refused at the end", pattern: "r.a", body: "<!DOCTYPE r [<!-- x --",
			msg: "invalid XML at line 1, column 23: unexpected EOF"},
	}
	for _, tc := range cases {
		// Every cut within a window of the end markers: the bytes before
		// the cut go first, so the marker straddles a refill.
		t.Run(tc.name, func(t *testing.T) { checkRule(t, tc, cuts(tc.body)) })
	}
}

// ruleCase is a body that must be refused with msg, or split into items.
type ruleCase struct {
	name, pattern, body string
	items               []string
	msg                 string // a 400's message when refused
}

// checkRule splits tc in full mode (checked against encoding/xml and mxj),
// then incrementally with the body cut at each offset of cuts: the items
// or the error must be the same every way.
func checkRule(t *testing.T, tc ruleCase, cuts []int) {
	t.Helper()
	in := configs.Incoming{Name: "t", Parser: "xml", PatternToItems: tc.pattern}
	res := splitBoth(t, in, "application/xml", []byte(tc.body))
	if tc.msg != "" {
		wantErr(t, res.err, http.StatusBadRequest, tc.msg)
		if stdXMLError([]byte(tc.body)) == nil && !ourStricterRule(res.err) {
			t.Fatalf("encoding/xml accepts what we refuse")
		}
	} else if res.err != nil || !equalStrings(res.items, tc.items) {
		t.Fatalf("items %.300q (%v), want %.300q", res.items, res.err, tc.items)
	}
	if tc.msg == "" && len(tc.body) < 1<<10 {
		compareWithMXJ(t, xmlCase{pattern: tc.pattern, body: []byte(tc.body)}, res.items)
	}
	in.ReadMethod = "incremental"
	s, err := New(in, testMaxBody)
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range cuts {
		got := splitWith(t, s, "application/xml", iotest.HalfReader(&splitAtReader{body: []byte(tc.body), cut: cut}))
		if !sameError(got.err, res.err) || res.err == nil && !equalStrings(got.items, res.items) {
			t.Fatalf("cut at %d: %.300q (%v), want %.300q (%v)", cut, got.items, got.err, res.items, res.err)
		}
	}
}

// cuts are the offsets around every end marker of skipped markup in body.
func cuts(body string) []int {
	var at []int
	for _, m := range []string{"-->", "--", "?>", "]>", "'>"} {
		for i := 0; ; {
			j := strings.Index(body[i:], m)
			if j < 0 {
				break
			}
			for d := -2; d <= len(m)+1; d++ {
				if c := i + j + d; c > 0 && c < len(body) {
					at = append(at, c)
				}
			}
			i += j + 1
		}
	}
	if len(at) > 64 { // huge bodies: the first and the last markers do
		at = append(at[:32], at[len(at)-32:]...)
	}
	return at
}

// BenchmarkSplitXMLSkipComment measures how fast an incremental split
// passes over an 8 MiB comment, with a dash every 16 bytes.
func BenchmarkSplitXMLSkipComment(b *testing.B) {
	const size = 8 << 20
	body := []byte("<r><a>1</a><!--" + strings.Repeat("comment text - ", size/15) + "--><a>2</a></r>")
	benchSplitReader(b, configs.Incoming{Name: "b", Parser: "xml", ReadMethod: "incremental", PatternToItems: "r.a"}, body)
}

// chunkReader hands out its body at most n bytes per Read.
type chunkReader struct {
	body []byte
	n    int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.body) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.n)], r.body)
	r.body = r.body[n:]
	return n, nil
}

// FuzzSkipXMLMarkup puts up to 128 KiB of filler into a comment, a
// processing instruction or a DOCTYPE, or into text or a CDATA section that
// no item keeps (kind picks the place and the filler), followed by fuzzed
// bytes that may end it, well or badly, and expects an incremental split
// with reads of any size to give what the full split gives: same items, same
// error, same position, though the incremental one lets go of the skipped
// bytes as it goes.
func FuzzSkipXMLMarkup(f *testing.F) {
	opens := []string{"<r><a>1</a>\n<!--", "<r><a>1</a><?pi ", "<!DOCTYPE r [\n", "<r><a>x<!--",
		"<r><a>1</a>\nab", "<r><a>1</a><![CDATA[", "<r><a>1</a></r>\n"}
	fills := []string{"x- \n", " \r\n\t"} // text, and whitespace that outside the root is no text
	f.Fuzz(func(t *testing.T, kind uint8, pad uint32, rest []byte, chunk uint16) {
		var b bytes.Buffer
		b.WriteString(opens[int(kind)%len(opens)])
		fill := fills[int(kind)/len(opens)%len(fills)]
		for range int(pad%(128<<10)) / 4 {
			b.WriteString(fill)
		}
		b.Write(rest)
		body := b.Bytes()
		in := configs.Incoming{Name: "f", Parser: "xml", PatternToItems: "r.a", OnEmpty: "accept"}
		full, err := New(in, testMaxBody)
		if err != nil {
			t.Fatal(err)
		}
		in.ReadMethod = "incremental"
		inc, err := New(in, testMaxBody)
		if err != nil {
			t.Fatal(err)
		}
		want := splitWith(t, full, "application/xml", bytes.NewReader(body))
		got := splitWith(t, inc, "application/xml", &chunkReader{body: body, n: 1 + int(chunk)})
		if !sameError(got.err, want.err) || want.err == nil && !equalStrings(got.items, want.items) {
			t.Fatalf("incremental %q (%v), full %q (%v)", got.items, got.err, want.items, want.err)
		}
	})
}
