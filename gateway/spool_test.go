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
			b, err := readBody(bytes.NewReader(tc.body), tc.limit, dir)
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
