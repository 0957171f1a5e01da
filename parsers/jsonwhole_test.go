package parsers

import (
	"bytes"
	"strings"
	"testing"
)

// wholeByWalker is what the walker makes of body as the whole-document
// item, with no limits in the way.
func wholeByWalker(body []byte) ([]byte, error) {
	var w jsonWalker
	items, err := w.collect(body, pattern{}, 2, 1<<40)
	if err != nil {
		return nil, err
	}
	if len(items) != 1 {
		return nil, errTooMany
	}
	return items[0], nil
}

// checkWholeJSON fails unless wholeJSON accepts exactly what the walker
// accepts, with the very same item (a slice of body, not a copy).
func checkWholeJSON(t *testing.T, body []byte) {
	t.Helper()
	item, ok := wholeJSON(body)
	want, err := wholeByWalker(body)
	switch {
	case ok && err != nil:
		t.Fatalf("wholeJSON accepts %q, the walker refuses it: %v", body, err)
	case !ok && err == nil:
		t.Fatalf("wholeJSON refuses %q, the walker accepts it", body)
	case ok && (len(item) != len(want) || len(item) > 0 && &item[0] != &want[0]):
		t.Fatalf("wholeJSON item of %q is %q, the walker's %q", body, item, want)
	}
}

var wholeJSONCases = []string{
	`{}`, `[]`, `{ }`, `[ ]`, ` {"a":1} `, "\xef\xbb\xbf{\"a\":1}", "\xef\xbb\xbf", "\xef\xbb", ``, ` `,
	`null`, `true`, `false`, `nul`, `truex`, `0`, `-0`, `01`, `-`, `1.`, `1.5`, `1e`, `1e+`, `1E-7`, `-12.5e3`, `2 3`,
	`"x"`, `"\u00e9"`, `"\u00e"`, `"\ud800"`, `"\x"`, `"a` + "\x01" + `"`, "\"\xff\"", "\"\xef\xbf\xbd\"", "\"\xed\xa0\x80\"",
	`{"a":}`, `{"a" 1}`, `{a:1}`, `{"a":1,}`, `[1,]`, `[1 2]`, `[1}`, `{"a":1]`, `{"a":[1,{"b":null}],"c":"d"}`,
	`[[[]]]`, `[[[]]`, `{"a":{"b":{}}}`, `,`, `]`, `}`, `{"a":1}}`, "[\t1\r\n,\n2 ]", `{"":""}`, `{"a":"b"`,
	strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth),
	strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1),
	strings.Repeat(`{"a":`, maxDepth) + "1" + strings.Repeat("}", maxDepth),
	strings.Repeat(`{"a":[`, 100) + "1" + strings.Repeat("]}", 100),
}

func TestWholeJSONAgreesWithWalker(t *testing.T) {
	for _, c := range wholeJSONCases {
		checkWholeJSON(t, []byte(c))
		// Every prefix: each way a body can end too early.
		for i := range len(c) {
			checkWholeJSON(t, []byte(c[:i]))
		}
	}
}

// FuzzWholeJSON checks the fast path against the walker on any body.
func FuzzWholeJSON(f *testing.F) {
	for _, c := range wholeJSONCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkWholeJSON(t, body) })
}

// BenchmarkWholeJSON1KiB validates a 1 KiB event as the one item: the
// walker (the baseline, as every JSON body went before) and the fast path.
func BenchmarkWholeJSON1KiB(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"action":"opened","repository":{"full_name":"acme/shop"},"items":[`)
	for i := 0; sb.Len() < 950; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"id":12,"sku":"SKU-00012","qty":5,"note":"caf\u00e9 ` + "\u00e9" + `"}`)
	}
	sb.WriteString(`]}`)
	body := []byte(sb.String())
	b.Run("walker", func(b *testing.B) {
		var w jsonWalker
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, err := w.collect(body, pattern{}, 1, 1<<20); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("whole", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if item, ok := wholeJSON(body); !ok || !bytes.Equal(item, body) {
				b.Fatal("refused")
			}
		}
	})
}
