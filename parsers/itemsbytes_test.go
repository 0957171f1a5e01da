package parsers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/test/attack"
)

// TestMaxItemsBytesCountsEveryParserInBothModes: the items of one body may
// total max_items_bytes and not one byte more, whatever the parser.
func TestMaxItemsBytesCountsEveryParserInBothModes(t *testing.T) {
	cases := []struct {
		parser, pattern, body string
		total                 int // what the items total
	}{
		{"json", "a", `{"a":[12,345,"6"]}`, 8},
		{"xml", "r.a", `<r><a>1</a><a>22</a></r>`, 7},
		{"csv", "", "k\n1\n22\n", 19},
		{"form", "", "k=1&k=22", 16},
		{"raw", "", "0123456789", 10},
	}
	for _, tc := range cases {
		in := configs.Incoming{Name: "t", Parser: tc.parser, PatternToItems: tc.pattern, MaxItemsBytes: configs.Size(tc.total)}
		t.Run(tc.parser+" at the limit passes", func(t *testing.T) {
			res := splitBoth(t, in, "", []byte(tc.body))
			if res.err != nil {
				t.Fatalf("items %q: %v", res.items, res.err)
			}
			if got := len(strings.Join(res.items, "")); got != tc.total {
				t.Fatalf("items %q total %d bytes, the case says %d", res.items, got, tc.total)
			}
		})
		t.Run(tc.parser+" one byte past the limit is a 413", func(t *testing.T) {
			in := in
			in.MaxItemsBytes--
			res := splitBoth(t, in, "", []byte(tc.body))
			wantErr(t, res.err, http.StatusRequestEntityTooLarge, fmt.Sprintf("items exceed %d bytes", tc.total-1))
		})
	}
}

// TestMaxItemsBytesDefaultsToFourMaxBodies: without max_items_bytes the
// limit follows the webhook's max_body.
func TestMaxItemsBytesDefaultsToFourMaxBodies(t *testing.T) {
	s, err := New(configs.Incoming{Name: "t", Parser: "raw"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SplitBytes(context.Background(), "", []byte("0123456789ab"), func(Item) error { return nil }); err != nil {
		t.Fatalf("12 bytes with max_body 3: %v", err)
	}
	err = s.SplitBytes(context.Background(), "", []byte("0123456789abc"), func(Item) error { return nil })
	wantErr(t, err, http.StatusRequestEntityTooLarge, "items exceed 12 bytes")
	if _, err := New(configs.Incoming{Name: "t"}, 0); err == nil {
		t.Fatal("New accepted a limit of 0 bytes")
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// TestMaxItemsBytesStopsTheWalker: the limit is checked while parsing, so
// a body whose items pass it is refused after reading about as much of it
// as the limit allows, not all of it.
func TestMaxItemsBytesStopsTheWalker(t *testing.T) {
	body := attack.AmplifyingCSV(8 << 20)
	const limit = 1 << 20
	for _, method := range []string{"full", "incremental"} {
		t.Run("csv "+method, func(t *testing.T) {
			s, err := New(configs.Incoming{Name: "t", Parser: "csv", ReadMethod: method, MaxItemsBytes: limit}, testMaxBody)
			if err != nil {
				t.Fatal(err)
			}
			r := &countingReader{r: bytes.NewReader(body)}
			var yielded int64
			err = s.Split(context.Background(), "", r, func(it Item) error { yielded += int64(len(it.Data)); return nil })
			wantErr(t, err, http.StatusRequestEntityTooLarge, "items exceed 1048576 bytes")
			if method == "incremental" && (yielded == 0 || yielded > limit) {
				t.Errorf("%d bytes of items yielded before the refusal, want some and at most %d", yielded, limit)
			}
			// Full mode reads a body from a reader whole before splitting it.
			if method == "incremental" && r.n > int64(len(body))/8 {
				t.Errorf("read %d of %d body bytes before refusing", r.n, len(body))
			}
		})
	}
	t.Run("json full", func(t *testing.T) {
		s, err := New(configs.Incoming{Name: "t", Parser: "json", PatternToItems: "a", MaxItemsBytes: 10}, testMaxBody)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		err = s.SplitBytes(context.Background(), "", []byte(`{"a":["12345","678",{]}`), func(Item) error { n++; return nil })
		// The refusal comes before the syntax error further on, and nothing was yielded.
		wantErr(t, err, http.StatusRequestEntityTooLarge, "items exceed 10 bytes")
		if n != 0 {
			t.Errorf("full mode yielded %d items of a refused body", n)
		}
	})
	t.Run("a csv row alone larger than the limit", func(t *testing.T) {
		s, err := New(configs.Incoming{Name: "t", Parser: "csv", MaxItemsBytes: 100}, testMaxBody)
		if err != nil {
			t.Fatal(err)
		}
		header := strings.Repeat("x", 200) + ",y\n"
		n := 0
		err = s.SplitBytes(context.Background(), "", []byte(header+",\n,\n"), func(Item) error { n++; return nil })
		wantErr(t, err, http.StatusRequestEntityTooLarge, "items exceed 100 bytes")
		if n != 0 {
			t.Errorf("%d items yielded", n)
		}
	})
}

// TestWideCSVHeaderCostsFewBytesPerField: a header line of a million
// fields is held as its keys and a few bytes per field. encoding/csv, used
// before, kept 40 bytes per field and its copies as the record grew: a
// megabyte of commas allocated over 100 MB before the repeated name was
// seen.
func TestWideCSVHeaderCostsFewBytesPerField(t *testing.T) {
	var names strings.Builder
	for i := 0; names.Len() < 1<<20; i++ {
		if i > 0 {
			names.WriteByte(',')
		}
		fmt.Fprintf(&names, "%x", i)
	}
	fields := strings.Count(names.String(), ",") + 1
	cases := []struct {
		name, body string
		status     int
		msg        string
		most       uint64 // allocated bytes; encoding/csv: 215 MB and 48 MB
	}{
		{"a megabyte of commas", strings.Repeat(",", 1<<20) + "\n", http.StatusBadRequest, `invalid CSV at line 1: field name "" appears twice in the header`, 64 << 20},
		{"a megabyte of names and one short row", names.String() + "\nx\n", http.StatusBadRequest, fmt.Sprintf("invalid CSV at line 2: 1 fields, the header has %d", fields), 32 << 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(configs.Incoming{Name: "t", Parser: "csv"}, testMaxBody)
			if err != nil {
				t.Fatal(err)
			}
			grown := allocatedBy(func() {
				err = s.SplitBytes(context.Background(), "", []byte(tc.body), func(Item) error { return nil })
			})
			wantErr(t, err, tc.status, tc.msg)
			if grown > tc.most {
				t.Errorf("allocated %d MB for a 1 MiB header, want at most %d", grown>>20, tc.most>>20)
			}
		})
	}
}

// TestAmplifyingCSVCostsTheLimitNotTheExpansion is the reported attack: 1 MB
// of CSV whose rows expand 200 times. Before max_items_bytes the split
// allocated about 400 MB (the 200 MB of items and the copies of a growing
// buffer); now it stops at the default 40 MiB of a 10 MiB max_body.
func TestAmplifyingCSVCostsTheLimitNotTheExpansion(t *testing.T) {
	body := attack.AmplifyingCSV(1_000_000)
	s, err := New(configs.Incoming{Name: "t", Parser: "csv"}, testMaxBody)
	if err != nil {
		t.Fatal(err)
	}
	grown := allocatedBy(func() {
		err = s.SplitBytes(context.Background(), "text/csv", body, func(Item) error { return nil })
	})
	wantErr(t, err, http.StatusRequestEntityTooLarge, "items exceed 41943040 bytes")
	if grown > 48<<20 {
		t.Errorf("allocated %d MB to refuse a 1 MB body; the items may total 40 MiB", grown>>20)
	}
}

// allocatedBy is how many bytes f allocated. TotalAlloc counts every
// goroutine's allocations: tests that use it do not run in parallel.
func allocatedBy(f func()) uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	f()
	runtime.ReadMemStats(&ms)
	return ms.TotalAlloc - before
}
