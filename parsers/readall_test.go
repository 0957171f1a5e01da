package parsers

import (
	"bytes"
	"io"
	"testing"
)

// A body above 1 MiB reaches the parsers from its spool file as an
// io.SectionReader, which knows its Size but not its Len. It is read into
// one buffer of its size, not grown there a quarter at a time: an 8 MiB raw
// body cost 38 MiB of allocations before (found by TestHostileCorpus).
func TestReadAllSizesTheBufferOnce(t *testing.T) {
	body := bytes.Repeat([]byte("["), 4<<20)
	for _, tc := range []struct {
		name string
		r    io.ReadSeeker
	}{
		{"a body in memory", bytes.NewReader(body)},
		{"a spooled body", io.NewSectionReader(bytes.NewReader(body), 0, int64(len(body)))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []byte
			allocs := testing.AllocsPerRun(3, func() {
				if _, err := tc.r.Seek(0, io.SeekStart); err != nil {
					t.Fatal(err)
				}
				var err error
				if got, err = readAll(tc.r); err != nil {
					t.Fatal(err)
				}
			})
			if !bytes.Equal(got, body) {
				t.Fatalf("read %d bytes, want the %d of the body", len(got), len(body))
			}
			if allocs != 1 {
				t.Errorf("%v allocations to read %d bytes, want 1", allocs, len(body))
			}
		})
	}
}
