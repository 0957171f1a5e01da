package parsers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/hookgate/hookgate/configs"
)

func TestNewRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name string
		in   configs.Incoming
		msg  string
	}{
		{name: "unknown parser", in: configs.Incoming{Name: "x", Parser: "yaml"}, msg: `incoming "x": parser "yaml" is unknown; use auto, json, xml, form, csv or raw`},
		{name: "unknown read method", in: configs.Incoming{Name: "x", ReadMethod: "lazy"}, msg: `incoming "x": read_method "lazy" is unknown; use full or incremental`},
		{name: "unknown on_empty", in: configs.Incoming{Name: "x", OnEmpty: "ignore"}, msg: `incoming "x": on_empty "ignore" is unknown; use reject or accept`},
		{name: "negative max_items", in: configs.Incoming{Name: "x", MaxItems: -1}, msg: `incoming "x": max_items -1 is negative`},
		{name: "raw with a pattern", in: configs.Incoming{Name: "x", Parser: "raw", PatternToItems: "a"}, msg: `incoming "x": pattern_to_items is not allowed with parser raw`},
		{name: "bad pattern", in: configs.Incoming{Name: "x", PatternToItems: "a..b"}, msg: `incoming "x": pattern_to_items "a..b": empty segment`},
		{name: "two-character delimiter", in: configs.Incoming{Name: "x", Parser: "csv", CSV: configs.CSVOptions{Delimiter: ";;"}}, msg: `incoming "x": csv.delimiter ";;" must be one character`},
		{name: "quote delimiter", in: configs.Incoming{Name: "x", Parser: "csv", CSV: configs.CSVOptions{Delimiter: `"`}}, msg: `csv.delimiter "\"" must be one character`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.in, testMaxBody)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %v, want one containing %q", err, tt.msg)
			}
		})
	}
}

func TestAutoPicksParserByContentType(t *testing.T) {
	tests := []struct {
		name string
		ct   string
		body string
		want string
	}{
		{name: "application/json is JSON", ct: "application/json", body: `{"a":1}`, want: `{"a":1}`},
		{name: "a +json type with parameters is JSON", ct: "Application/Vnd.Api+JSON; charset=utf-8", body: `[1]`, want: `[1]`},
		{name: "application/xml is XML", ct: "application/xml", body: `<a>1</a>`, want: `{"a":"1"}`},
		{name: "text/xml is XML", ct: "text/xml; charset=utf-8", body: `<a>1</a>`, want: `{"a":"1"}`},
		{name: "a +xml type is XML", ct: "application/atom+xml", body: `<feed/>`, want: `{"feed":""}`},
		{name: "form-urlencoded is form", ct: "application/x-www-form-urlencoded", body: `a=1`, want: `{"a":"1"}`},
		{name: "text/csv is CSV", ct: "text/csv", body: "a\n1\n", want: `{"a":"1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := splitBoth(t, configs.Incoming{Name: "t"}, tt.ct, []byte(tt.body))
			if res.err != nil || len(res.items) != 1 || res.items[0] != tt.want {
				t.Fatalf("items %q error %v, want %q", res.items, res.err, tt.want)
			}
		})
	}
	for _, ct := range []string{"text/plain", "", "application/jsonx"} {
		t.Run("415 for "+ct, func(t *testing.T) {
			res := splitBoth(t, configs.Incoming{Name: "t"}, ct, []byte(`{}`))
			wantErr(t, res.err, http.StatusUnsupportedMediaType, "")
			if ct != "" && !strings.Contains(res.err.Error(), `"`+ct+`"`) {
				t.Fatalf("message %q does not name %q", res.err, ct)
			}
		})
	}
}

func TestOnEmptyAndMaxItems(t *testing.T) {
	body := []byte(`{"a":[1,2,3]}`)
	t.Run("on_empty accept answers no items and no error", func(t *testing.T) {
		res := splitBoth(t, configs.Incoming{Name: "t", Parser: "json", PatternToItems: "b", OnEmpty: "accept"}, "", body)
		if res.err != nil || len(res.items) != 0 {
			t.Fatalf("items %q error %v", res.items, res.err)
		}
	})
	t.Run("max_items equal to the count passes", func(t *testing.T) {
		res := splitBoth(t, configs.Incoming{Name: "t", Parser: "json", PatternToItems: "a", MaxItems: 3}, "", body)
		if res.err != nil || len(res.items) != 3 {
			t.Fatalf("items %q error %v", res.items, res.err)
		}
	})
	for _, parser := range []string{"json", "xml", "csv"} {
		t.Run("one item over max_items is a 413 for "+parser, func(t *testing.T) {
			b, pat := body, "a"
			switch parser {
			case "xml":
				b, pat = []byte(`<r><a>1</a><a>2</a><a>3</a></r>`), "r.a"
			case "csv":
				b, pat = []byte("a\n1\n2\n3\n"), ""
			}
			res := splitBoth(t, configs.Incoming{Name: "t", Parser: parser, PatternToItems: pat, MaxItems: 2}, "", b)
			wantErr(t, res.err, http.StatusRequestEntityTooLarge, "more than 2 items")
		})
	}
}

func TestRawPassesTheBodyThrough(t *testing.T) {
	body := []byte("\x00binary\xff")
	res := splitBoth(t, configs.Incoming{Name: "t", Parser: "raw"}, "application/octet-stream", body)
	if res.err != nil || len(res.items) != 1 || res.items[0] != string(body) {
		t.Fatalf("items %q error %v", res.items, res.err)
	}
	s, _ := New(configs.Incoming{Name: "t", Parser: "raw"}, testMaxBody)
	_ = s.Split(context.Background(), "image/png", bytes.NewReader(body), func(it Item) error {
		if it.ContentType != "image/png" {
			t.Fatalf("content type %q, want the request's", it.ContentType)
		}
		return nil
	})
}

func TestItemsCarryJSONContentType(t *testing.T) {
	s, _ := New(configs.Incoming{Name: "t", Parser: "xml"}, testMaxBody)
	_ = s.Split(context.Background(), "text/xml", strings.NewReader("<a/>"), func(it Item) error {
		if it.ContentType != "application/json" {
			t.Fatalf("content type %q", it.ContentType)
		}
		return nil
	})
}

var errStop = errors.New("stop")

// TestYieldErrorStopsTheSplit checks that the caller's error comes back as-is
// and that no item follows it.
func TestYieldErrorStopsTheSplit(t *testing.T) {
	bodies := map[string]string{"json": `{"a":[1,2,3]}`, "xml": `<r><a>1</a><a>2</a><a>3</a></r>`, "csv": "a\n1\n2\n3\n", "form": "a=1&a=2&a=3"}
	for parser, body := range bodies {
		for _, method := range []string{"full", "incremental"} {
			t.Run(parser+" "+method, func(t *testing.T) {
				pat := "a"
				switch parser {
				case "xml":
					pat = "r.a"
				case "csv":
					pat = ""
				}
				s, err := New(configs.Incoming{Name: "t", Parser: parser, ReadMethod: method, PatternToItems: pat}, testMaxBody)
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				err = s.Split(context.Background(), "", strings.NewReader(body), func(Item) error {
					n++
					if n == 2 {
						return errStop
					}
					return nil
				})
				if err != errStop || n != 2 {
					t.Fatalf("error %v after %d items, want errStop after 2", err, n)
				}
			})
		}
	}
}

// TestIncrementalYieldsBeforeALateError shows the difference between the
// modes: full publishes nothing of a malformed body, incremental what it read.
func TestIncrementalYieldsBeforeALateError(t *testing.T) {
	for parser, body := range map[string]string{"json": `{"a":[1,2,{]}`, "xml": `<r><a>1</a><a>2</a><a>3</b></r>`} {
		pat := "a"
		if parser == "xml" {
			pat = "r.a"
		}
		for method, want := range map[string]int{"full": 0, "incremental": 2} {
			s, _ := New(configs.Incoming{Name: "t", Parser: parser, ReadMethod: method, PatternToItems: pat}, testMaxBody)
			n := 0
			err := s.Split(context.Background(), "", strings.NewReader(body), func(Item) error { n++; return nil })
			wantErr(t, err, http.StatusBadRequest, "invalid ")
			if n != want {
				t.Fatalf("%s %s: %d items before the error, want %d", parser, method, n, want)
			}
		}
	}
}

// TestReadErrorIsNotA400 checks that a failing body (a dropped connection,
// a body limit) comes back wrapped, not as the sender's syntax error.
func TestReadErrorIsNotA400(t *testing.T) {
	boom := errors.New("connection reset")
	bodies := map[string]string{"json": `{"a":[1,2`, "xml": `<r><a>1</a>`, "csv": "a\n1\n", "form": "a=1", "raw": "x"}
	for parser, body := range bodies {
		for _, method := range []string{"full", "incremental"} {
			s, _ := New(configs.Incoming{Name: "t", Parser: parser, ReadMethod: method}, testMaxBody)
			r := io.MultiReader(strings.NewReader(body), iotest.ErrReader(boom))
			err := s.Split(context.Background(), "", r, func(Item) error { return nil })
			var rej *Error
			if !errors.Is(err, boom) || errors.As(err, &rej) {
				t.Fatalf("%s %s: error %v, want the read error", parser, method, err)
			}
		}
	}
}

func TestCanceledContextStopsIncremental(t *testing.T) {
	s, _ := New(configs.Incoming{Name: "t", Parser: "json", ReadMethod: "incremental", PatternToItems: "a"}, testMaxBody)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := s.Split(ctx, "", strings.NewReader(`{"a":[1,2,3]}`), func(Item) error { n++; cancel(); return nil })
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Fatalf("error %v after %d items", err, n)
	}
}

// TestItemsAreNotReused keeps every item of an incremental split and checks
// them after the split went on reading.
func TestItemsAreNotReused(t *testing.T) {
	var body strings.Builder
	body.WriteString(`{"a":[`)
	for i := range 5000 {
		if i > 0 {
			body.WriteByte(',')
		}
		body.WriteString(`"item-` + strings.Repeat("x", i%50) + `"`)
	}
	body.WriteString(`]}`)
	for _, parser := range []string{"json", "xml"} {
		b, pat := body.String(), "a"
		if parser == "xml" {
			var x strings.Builder
			x.WriteString("<r>")
			for i := range 5000 {
				x.WriteString("<a>item-" + strings.Repeat("x", i%50) + "</a>")
			}
			x.WriteString("</r>")
			b, pat = x.String(), "r.a"
		}
		for _, method := range []string{"full", "incremental"} {
			s, _ := New(configs.Incoming{Name: "t", Parser: parser, ReadMethod: method, PatternToItems: pat}, testMaxBody)
			var kept [][]byte
			err := s.Split(context.Background(), "", iotest.HalfReader(strings.NewReader(b)), func(it Item) error { kept = append(kept, it.Data); return nil })
			if err != nil || len(kept) != 5000 {
				t.Fatalf("%s %s: %d items, error %v", parser, method, len(kept), err)
			}
			for i, k := range kept {
				if want := `"item-` + strings.Repeat("x", i%50) + `"`; string(k) != want {
					t.Fatalf("%s %s: item %d is %q, want %q", parser, method, i, k, want)
				}
			}
		}
	}
}

// TestConcurrentSplitsShareOneSplitter runs many requests through one
// splitter at once (the pooled walkers must never mix requests); run with -race.
func TestConcurrentSplitsShareOneSplitter(t *testing.T) {
	for _, method := range []string{"full", "incremental"} {
		s, _ := New(configs.Incoming{Name: "t", Parser: "json", ReadMethod: method, PatternToItems: "a"}, testMaxBody)
		splitConcurrently(t, method, s, 16, func(g int) (string, []string) {
			want := strings.Repeat("x", g)
			return `{"a":["` + want + `","` + want + `"]}`, []string{`"` + want + `"`, `"` + want + `"`}
		})
	}
}

// splitConcurrently splits the bodies of n requests at once through s,
// each 200 times, and fails t unless every split gives its own items.
// request(g) is the body of request g and its items.
func splitConcurrently(t *testing.T, method string, s *Splitter, n int, request func(g int) (body string, items []string)) {
	t.Helper()
	errs := make(chan error, n)
	for g := range n {
		go func() {
			body, want := request(g)
			for range 200 {
				var got []string
				err := s.Split(context.Background(), "", strings.NewReader(body), func(it Item) error { got = append(got, string(it.Data)); return nil })
				if err == nil && !equalStrings(got, want) {
					err = fmt.Errorf("items %q, want %q", got, want)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("%s: %v", method, err)
		}
	}
}
