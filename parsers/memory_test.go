package parsers

import (
	"context"
	"io"
	"runtime"
	"testing"

	"github.com/hookgate/hookgate/configs"
)

// genReader streams prefix, n copies of item separated by sep, then suffix,
// without ever holding the body.
type genReader struct {
	prefix, item, sep, suffix []byte
	n, stage                  int
	cur                       []byte
}

func (g *genReader) Read(p []byte) (int, error) {
	for len(g.cur) == 0 {
		switch {
		case g.stage == 0:
			g.cur, g.stage = g.prefix, 1
		case g.stage == 1 && g.n > 0:
			g.n--
			g.cur = g.item
			if g.n > 0 {
				g.cur = append(append(g.cur[:0:0], g.item...), g.sep...)
			}
		case g.stage == 1:
			g.cur, g.stage = g.suffix, 2
		default:
			return 0, io.EOF
		}
	}
	n := copy(p, g.cur)
	g.cur = g.cur[n:]
	return n, nil
}

// TestIncrementalMemoryFollowsTheItem streams 64 MiB bodies through
// incremental splits and checks the live heap never comes near the body.
func TestIncrementalMemoryFollowsTheItem(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 128 MiB")
	}
	const bodySize = 64 << 20
	cases := []struct {
		parser, pattern, prefix, item, sep, suffix string
	}{
		{"json", "a", `{"a":[`, `{"id":"0123456789","qty":2,"note":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`, ",", `]}`},
		{"xml", "r.a", `<r>`, `<a id="1"><sku>0123456789</sku><qty>2</qty><note>xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx</note></a>`, "\n", `</r>`},
	}
	for _, tc := range cases {
		t.Run(tc.parser, func(t *testing.T) {
			n := bodySize / (len(tc.item) + 1)
			s, err := New(configs.Incoming{Name: "m", Parser: tc.parser, ReadMethod: "incremental", PatternToItems: tc.pattern, MaxItems: n}, bodySize)
			if err != nil {
				t.Fatal(err)
			}
			body := &genReader{prefix: []byte(tc.prefix), item: []byte(tc.item), sep: []byte(tc.sep), suffix: []byte(tc.suffix), n: n}
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			base, peak := ms.HeapAlloc, uint64(0)
			count := 0
			err = s.Split(context.Background(), "", body, func(Item) error {
				if count++; count%(n/8) == 0 {
					runtime.GC()
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapAlloc)
				}
				return nil
			})
			if err != nil || count != n {
				t.Fatalf("%d of %d items, error %v", count, n, err)
			}
			if grown := int64(peak) - int64(base); grown > 8<<20 {
				t.Fatalf("live heap grew by %d bytes while streaming a %d byte body", grown, bodySize)
			}
		})
	}
}
