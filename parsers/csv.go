package parsers

import (
	"bytes"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
)

// walkCSV splits a CSV body: the first row names the fields, every further
// row is an object of strings. The document is the array of rows, so with a
// pattern a key applies to every row (arrays are transparent), an index picks
// a row and * every row; without one every row is an item. Fields are
// written straight into the row's JSON (see csvReader). In full mode the
// items are written into chunks that are never reused (see xmlWalker.begin),
// so that holding them costs their own bytes and not the copies left behind
// by one growing buffer.
func (s *Splitter) walkCSV(body io.Reader, full bool, emit func([]byte) error) error {
	er := &errReader{r: body}
	r := newCSVReader(er, s.csvComma)
	var w *jsonWalker
	if len(s.pat.segs) > 0 {
		w = s.jsonPool.Get().(*jsonWalker)
		defer s.jsonPool.Put(w)
	}
	h, err := s.csvHeader(r)
	if err != nil {
		return csvError(err, er)
	}
	var out []byte
	room := 1 << 10 // free space a chunk must have for the next row
	start, i := 0, 0
	field := func(v []byte) error {
		if i < h.fields() {
			out = append(out, h.key(i)...)
			out = appendJSONString(out, v)
			// Long names over short values make a row far larger than its
			// line: without a pattern the row is the item, so stop building
			// it once it alone passes what all items may total.
			if w == nil && int64(len(out)-start) > s.maxBytes {
				return s.tooBig()
			}
		}
		i++
		return nil
	}
	for row := 0; ; row++ {
		switch {
		case !full:
			out = out[:0]
		case cap(out)-len(out) < room:
			out = make([]byte, 0, max(itemChunk, 2*room))
		}
		start, i = len(out), 0
		out = append(out, '{')
		line, n, err := r.next(field)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return csvError(err, er)
		}
		if n != h.fields() {
			return reject(http.StatusBadRequest, "invalid CSV at line %d: %d fields, the header has %d", line, n, h.fields())
		}
		out = append(out, '}')
		item := out[start:len(out):len(out)]
		room = max(room, len(item))
		if w == nil {
			err = emit(item)
		} else if d := rowState(s.pat.segs[0], row); d != dSkip {
			err = w.runAs(item, "JSON", s.pat, d, emit)
		}
		if err != nil {
			return err
		}
	}
}

// csvError words a failure of the CSV reader: the body's, or reading it.
func csvError(err error, er *errReader) error {
	if er.err != nil {
		return fmt.Errorf("read body: %w", er.err)
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return reject(http.StatusBadRequest, "invalid CSV at line %d, column %d: %s", pe.Line, pe.Column, pe.Err)
	}
	var rej *Error
	if errors.As(err, &rej) {
		return err
	}
	return reject(http.StatusBadRequest, "invalid CSV: %s", err)
}

// csvHeader is the first row: every name written once as the JSON key it
// becomes in each row, after a comma but for the first.
type csvHeader struct {
	keys []byte
	ends []int32 // field i's key is keys[ends[i-1]:ends[i]]
}

func (h *csvHeader) fields() int { return len(h.ends) }

func (h *csvHeader) key(i int) []byte {
	if i == 0 {
		return h.keys[:h.ends[0]]
	}
	return h.keys[h.ends[i-1]:h.ends[i]]
}

// name is field i's key as a JSON string, without the comma and colon.
func (h *csvHeader) name(i int) []byte {
	k := h.key(i)
	if i > 0 {
		k = k[1:]
	}
	return k[:len(k)-1]
}

// csvHeader reads the first row; an empty body has none (no fields, and
// next finds no rows either). A header is held as its keys and 4 bytes per
// field, and checked for repeated names by sorting, because a line of a
// million commas is a million names.
func (s *Splitter) csvHeader(r *csvReader) (*csvHeader, error) {
	h := &csvHeader{}
	line, _, err := r.next(func(v []byte) error {
		// Doubling, where append grows large slices by a quarter: a wide
		// header then leaves one copy behind, not four.
		if len(h.ends) == cap(h.ends) {
			h.ends = slices.Grow(h.ends, len(h.ends))
		}
		if cap(h.keys)-len(h.keys) < len(v)+4 {
			h.keys = slices.Grow(h.keys, len(h.keys)+len(v)+4)
		}
		if len(h.ends) == 0 {
			v = bytes.TrimPrefix(v, []byte("\xef\xbb\xbf"))
		} else {
			h.keys = append(h.keys, ',')
		}
		h.keys = append(appendJSONString(h.keys, v), ':')
		if len(h.keys) > math.MaxInt32 {
			return reject(http.StatusBadRequest, "invalid CSV at line 1: a header longer than 2 GiB")
		}
		h.ends = append(h.ends, int32(len(h.keys)))
		return nil
	})
	if err == io.EOF {
		return h, nil
	}
	if err != nil {
		return nil, err
	}
	// Names are compared as the keys they become: two names that differ
	// only in invalid UTF-8 would be one key.
	order := make([]int32, len(h.ends))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		if c := bytes.Compare(h.name(int(a)), h.name(int(b))); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	// The name reported is the one whose repeat comes first in the row: the
	// second of each run of equals, the earliest of those.
	repeat := -1
	for k := 1; k < len(order); k++ {
		a, b := h.name(int(order[k-1])), h.name(int(order[k]))
		if bytes.Equal(a, b) && (k < 2 || !bytes.Equal(h.name(int(order[k-2])), b)) {
			if repeat < 0 || int(order[k]) < repeat {
				repeat = int(order[k])
			}
		}
	}
	if repeat >= 0 {
		name := unescapeJSON(nil, h.name(repeat)[1:len(h.name(repeat))-1])
		return nil, reject(http.StatusBadRequest, "invalid CSV at line %d: field name %q appears twice in the header", line, name)
	}
	return h, nil
}

// rowState is the pattern state of row i of the rows array.
func rowState(seg segment, i int) int {
	switch seg.kind {
	case segStar:
		return 1
	case segIndex:
		if seg.index == i {
			return 1
		}
		return dSkip
	}
	return 0
}
