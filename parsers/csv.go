package parsers

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// walkCSV splits a CSV body: the first row names the fields, every further
// row is an object of strings. The document is the array of rows, so with a
// pattern a key applies to every row (arrays are transparent), an index picks
// a row and * every row; without one every row is an item. In full mode the
// items are sub-slices of one output buffer that is never reused.
func (s *Splitter) walkCSV(body io.Reader, full bool, emit func([]byte) error) error {
	er := &errReader{r: body}
	r := csv.NewReader(er)
	r.Comma = s.csvComma
	r.FieldsPerRecord = -1 // checked here, to name the line in our words
	r.ReuseRecord = true
	var header []string
	var out []byte
	var w *jsonWalker
	if len(s.pat.segs) > 0 {
		w = s.jsonPool.Get().(*jsonWalker)
		defer s.jsonPool.Put(w)
	}
	for row := -1; ; {
		rec, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if er.err != nil {
				return fmt.Errorf("read body: %w", er.err)
			}
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return reject(http.StatusBadRequest, "invalid CSV at line %d, column %d: %s", pe.Line, pe.Column, pe.Err)
			}
			return reject(http.StatusBadRequest, "invalid CSV: %s", err)
		}
		line, _ := r.FieldPos(0)
		if header == nil {
			header = make([]string, len(rec))
			seen := make(map[string]bool, len(rec))
			for i, name := range rec {
				if i == 0 {
					name = strings.TrimPrefix(name, "\xef\xbb\xbf")
				}
				if seen[name] {
					return reject(http.StatusBadRequest, "invalid CSV at line %d: field name %q appears twice in the header", line, name)
				}
				seen[name] = true
				header[i] = name
			}
			continue
		}
		row++
		if len(rec) != len(header) {
			return reject(http.StatusBadRequest, "invalid CSV at line %d: %d fields, the header has %d", line, len(rec), len(header))
		}
		if !full {
			out = out[:0]
		}
		start := len(out)
		out = append(out, '{')
		for i, v := range rec {
			out = appendKey(out, i > 0, "", header[i])
			out = appendJSONString(out, v)
		}
		out = append(out, '}')
		item := out[start:len(out):len(out)]
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
