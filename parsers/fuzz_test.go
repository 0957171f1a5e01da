package parsers

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/clbanning/mxj/v2"
	"github.com/hookgate/hookgate/configs"
	"golang.org/x/net/html/charset"
)

// Seeds live in testdata/fuzz/<FuzzName>/; plain go test runs only those.

// fuzzSplit is splitBoth for fuzzing: it skips configurations New refuses.
func fuzzSplit(t *testing.T, in configs.Incoming, ct string, body []byte) (result, bool) {
	if _, err := New(in, testMaxBody); err != nil {
		return result{}, false
	}
	return splitBoth(t, in, ct, body), true
}

// checkItems fails unless every item is valid JSON.
func checkItems(t *testing.T, res result) {
	t.Helper()
	for _, it := range res.items {
		if !json.Valid([]byte(it)) {
			t.Fatalf("item is not JSON: %q", it)
		}
	}
	var rej *Error
	if res.err != nil && !errors.As(res.err, &rej) {
		t.Fatalf("error %v is not a rejection", res.err)
	}
}

func FuzzPattern(f *testing.F) {
	f.Fuzz(func(t *testing.T, text string, doc []byte) {
		p, err := parsePattern(text)
		if err != nil {
			return
		}
		again, err := parsePattern(p.String())
		if err != nil || !reflect.DeepEqual(again.segs, p.segs) {
			t.Fatalf("%q renders as %q, which parses to %+v (%v), not %+v", text, p.String(), again.segs, err, p.segs)
		}
		res, ok := fuzzSplit(t, configs.Incoming{Name: "f", Parser: "json", PatternToItems: text, OnEmpty: "accept"}, "", doc)
		if ok {
			checkItems(t, res)
		}
	})
}

func FuzzSplitJSON(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte, pattern string) {
		res, ok := fuzzSplit(t, configs.Incoming{Name: "f", Parser: "json", PatternToItems: pattern, OnEmpty: "accept"}, "", body)
		if !ok {
			return
		}
		checkItems(t, res)
		if pattern == "" {
			// With no pattern the parser must agree with encoding/json on
			// what is JSON, apart from the limits it adds.
			doc := bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
			std := json.Valid(doc) && utf8.Valid(doc)
			var rej *Error
			depth := errors.As(res.err, &rej) && rej.Message == "nesting deeper than 512"
			if (res.err == nil) != std && !depth {
				t.Fatalf("split error %v, encoding/json valid %v", res.err, std)
			}
		}
	})
}

func FuzzSplitXML(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte, pattern string, cast bool) {
		in := configs.Incoming{Name: "f", Parser: "xml", PatternToItems: pattern, OnEmpty: "accept", XML: configs.XMLOptions{Cast: cast}}
		res, ok := fuzzSplit(t, in, "application/xml", body)
		if !ok {
			return
		}
		checkItems(t, res)
		if pattern != "" || len(body) > 0 && (body[0] == 0 || body[0] >= 0xEF) || bytes.Contains(body, []byte("encoding")) {
			return // byte order marks and declared encodings: the oracle decodes them differently
		}
		stdErr := stdXMLError(body)
		if res.err == nil && stdErr != nil {
			t.Fatalf("accepted, but encoding/xml refuses it: %v", stdErr)
		}
		if res.err != nil && stdErr == nil && !ourStricterRule(res.err) {
			t.Fatalf("refused (%v), but encoding/xml accepts it", res.err)
		}
		if res.err == nil {
			m, err := mxj.NewMapXml(body, cast)
			if err != nil {
				t.Fatalf("mxj: %v", err)
			}
			var got, want any
			_ = json.Unmarshal([]byte(res.items[0]), &got)
			_ = json.Unmarshal(mustJSON(map[string]any(m)), &want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("item %s, mxj %s", res.items[0], mustJSON(map[string]any(m)))
			}
		}
	})
}

// stdXMLError reads the whole document with encoding/xml's strict decoder.
func stdXMLError(body []byte) error {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.CharsetReader = charset.NewReaderLabel
	for {
		_, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// ourStricterRule reports rejections encoding/xml leaves to its callers.
func ourStricterRule(err error) bool {
	for _, s := range []string{"root element", "outside the root", "nesting deeper", "more than one colon"} {
		if strings.Contains(err.Error(), s) {
			return true
		}
	}
	return false
}

func FuzzSplitForm(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte, field, pattern string) {
		res, ok := fuzzSplit(t, configs.Incoming{Name: "f", Parser: "form", PatternToItems: pattern, OnEmpty: "accept", Form: configs.FormOptions{JSONField: field}}, "", body)
		if ok {
			checkItems(t, res)
		}
	})
}

func FuzzSplitCSV(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte, delimiter, pattern string) {
		res, ok := fuzzSplit(t, configs.Incoming{Name: "f", Parser: "csv", PatternToItems: pattern, OnEmpty: "accept", CSV: configs.CSVOptions{Delimiter: delimiter}}, "", body)
		if ok {
			checkItems(t, res)
		}
	})
}
