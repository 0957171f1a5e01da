package parsers

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"reflect"
	"slices"
	"testing"
	"unicode/utf8"
)

// csvRecords reads body with csvReader: every record, then the error that
// ended the reading (io.EOF at the end).
func csvRecords(body []byte, comma rune) ([][]string, error) {
	r := newCSVReader(bytes.NewReader(body), comma)
	var out [][]string
	for {
		var rec []string
		_, n, err := r.next(func(v []byte) error { rec = append(rec, string(v)); return nil })
		if err != nil {
			return out, err
		}
		if n != len(rec) {
			return out, errors.New("field count differs from the fields handed out")
		}
		out = append(out, rec)
	}
}

// stdRecords reads body with encoding/csv configured as hookgate used it.
func stdRecords(body []byte, comma rune) ([][]string, error) {
	r := csv.NewReader(bytes.NewReader(body))
	r.Comma = comma
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	var out [][]string
	for {
		rec, err := r.Read()
		if err != nil {
			return out, err
		}
		out = append(out, slices.Clone(rec))
	}
}

// FuzzCSVReaderMatchesEncodingCSV: csvReader reads the records, errors and
// positions encoding/csv reads, so replacing it changed no answer.
func FuzzCSVReaderMatchesEncodingCSV(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte, delimiter string) {
		comma, size := utf8.DecodeRuneInString(delimiter)
		if size == 0 || size != len(delimiter) {
			comma = ','
		}
		got, gotErr := csvRecords(body, comma)
		want, wantErr := stdRecords(body, comma)
		if !reflect.DeepEqual(got, want) && (len(got) > 0 || len(want) > 0) {
			t.Fatalf("records %q, encoding/csv reads %q", got, want)
		}
		if gotErr == io.EOF || wantErr == io.EOF {
			if gotErr != wantErr {
				t.Fatalf("error %v, encoding/csv %v", gotErr, wantErr)
			}
			return
		}
		if gotErr.Error() != wantErr.Error() {
			t.Fatalf("error %q, encoding/csv %q", gotErr, wantErr)
		}
	})
}

// TestCSVReaderReadsLongLinesAndLargeQuotedFields crosses the reader's
// buffer, where a line is read in pieces.
func TestCSVReaderReadsLongLinesAndLargeQuotedFields(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 10000)
	body := append(append([]byte("a,\""), long...), "\"\"\n\nline\"\r\n"...)
	body = append(append(body, long...), ",b\r\n"...)
	got, gotErr := csvRecords(body, ',')
	want, wantErr := stdRecords(body, ',')
	if !reflect.DeepEqual(got, want) || gotErr != io.EOF || wantErr != io.EOF {
		t.Fatalf("records %d (%v), encoding/csv %d (%v)", len(got), gotErr, len(want), wantErr)
	}
}
