package gateway

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"
)

func TestReadBody(t *testing.T) {
	small := bytes.Repeat([]byte("a"), 1000)
	large := bytes.Repeat([]byte("0123456789abcdef"), (3<<20)/16) // 3 MiB: spooled
	cases := []struct {
		name    string
		body    []byte
		limit   int64
		spooled bool
		tooBig  bool
	}{
		{"small body stays in memory", small, 10 << 20, false, false},
		{"body exactly at the limit is accepted", small, 1000, false, false},
		{"one byte over the limit is refused", small, 999, false, true},
		{"large body is spooled to disk", large, 10 << 20, true, false},
		{"large body over the limit is refused", large, 2 << 20, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			b, err := readBody(bytes.NewReader(tc.body), tc.limit, -1, spooler{dir: dir, max: 1 << 40, budget: new(budget)})
			if tc.tooBig {
				if !errors.Is(err, errTooLarge) {
					t.Fatalf("err %v, want errTooLarge", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			if b.Size() != int64(len(tc.body)) {
				t.Errorf("size %d, want %d", b.Size(), len(tc.body))
			}
			if (b.Bytes() == nil) != tc.spooled {
				t.Errorf("spooled = %v, want %v", b.Bytes() == nil, tc.spooled)
			}
			for range 2 { // every Open reads from the start
				got, err := io.ReadAll(b.Open())
				if err != nil || !bytes.Equal(got, tc.body) {
					t.Fatalf("Open read %d bytes (%v), want the body", len(got), err)
				}
			}
			// The spool file is unlinked at once: nothing is left behind.
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("spool dir holds %d entries", len(entries))
			}
		})
	}
}

// failAfter reads n bytes of zeros, then fails.
type failAfter struct{ n int }

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("connection reset")
	}
	k := min(len(p), f.n)
	clear(p[:k])
	f.n -= k
	return k, nil
}

// TestSpoolBudgetIsGivenBackOnEveryPath: whatever happens to a body, what
// it reserved of spool_max is given back, and a refusal costs no read.
func TestSpoolBudgetIsGivenBackOnEveryPath(t *testing.T) {
	const mib = 1 << 20
	large := bytes.Repeat([]byte("x"), 3*mib)
	cases := []struct {
		name          string
		r             io.Reader
		limit, length int64
		max           int64
		want          error // what readBody must return; nil: whatever it returns (closed when read)
		read          int64 // bytes read from r at most (-1: any)
	}{
		{"a spooled body, then Close", bytes.NewReader(large), 10 * mib, 3 * mib, 4 * mib, nil, -1},
		{"a chunked spooled body, then Close", bytes.NewReader(large), 10 * mib, -1, 4 * mib, nil, -1},
		{"a Content-Length that does not fit is refused before reading", bytes.NewReader(large), 10 * mib, 3 * mib, 2 * mib, errSpoolFull, 0},
		{"a chunked body is refused once it does not fit", bytes.NewReader(large), 10 * mib, -1, 2 * mib, errSpoolFull, 2*mib + 64<<10},
		{"a body past max_body", bytes.NewReader(large), 2 * mib, -1, 4 * mib, errTooLarge, -1},
		{"a body whose connection fails", &failAfter{n: 2 * mib}, 10 * mib, -1, 4 * mib, nil, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var bud budget
			cr := &countReader{r: tc.r}
			b, err := readBody(cr, tc.limit, tc.length, spooler{dir: t.TempDir(), max: tc.max, budget: &bud})
			switch {
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Fatalf("err %v, want %v", err, tc.want)
			case tc.want == nil && err == nil:
				if got := bud.used.Load(); got < b.Size() || got > tc.max {
					t.Errorf("a spooled body of %d bytes holds %d of the budget", b.Size(), got)
				}
				b.Close()
			}
			if got := bud.used.Load(); got != 0 {
				t.Errorf("%d bytes still counted", got)
			}
			if tc.read >= 0 && cr.n > tc.read {
				t.Errorf("read %d bytes, want at most %d", cr.n, tc.read)
			}
		})
	}
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
