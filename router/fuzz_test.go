package router

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/parsers"
)

// FuzzRoutePipeline runs arbitrary bytes as a task body through the whole
// route pipeline (filter, transform, format) of six pairs: every filter
// operator, every transform step, cel and jq among declarative steps, json
// and xml, and a pair with nothing to do. Besides never crashing (SPEC §11: 8MB of "[" used to overflow the
// stack), every outcome is checked: the body is never modified; a step
// refuses exactly what parsers.CheckJSON refuses, naming itself; what is
// sent is JSON or well-formed XML under the root element, within the limit;
// a pair with nothing to do sends the body as it came.
func FuzzRoutePipeline(f *testing.F) {
	f.Add([]byte(`{"-id":"42","status":"released","kind":"order","sku":"A-1","qty":5,"price":"12.5","Lines":{"Line":[{"sku":"A"}]},"internalNotes":"x"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`"str"`))
	f.Add([]byte(`{"status":{"nested":[1,2,{"a":null}]}}`))
	const limit = 4096
	every := configs.Route{
		Filter: []configs.Condition{
			{Path: "status", Equals: ptr("released")},
			{Path: "kind", NotEquals: ptr("draft")},
			{Path: "kind", In: []string{"order", "refund"}},
			{Path: "sku", Matches: `^[A-Z]-\d+$`},
			{Path: "internalNotes", Exists: ptr(true)},
			{Path: "qty", GT: ptr(0.0)},
			{Path: "price", LT: ptr(100.0)},
		},
		Transform: []configs.Transform{
			{Map: []configs.KeyValue{{Key: "orderId", Value: "-id"}, {Key: "lines", Value: "Lines.Line"}, {Key: "status", Value: "status"}, {Key: "all", Value: "@this"}}},
			{Set: []configs.KeyJSON{{Key: "source", JSON: []byte(`"erp"`)}, {Key: "meta.n", JSON: []byte(`[1,{"-a":"b"}]`)}}},
			{Rename: []configs.KeyValue{{Key: "orderId", Value: "-id"}, {Key: "status", Value: "#text"}}},
			{Remove: []string{"all.internalNotes", "lines.0"}},
		},
	}
	expressions := configs.Route{
		Filter: []configs.Condition{
			{Path: "status", Exists: ptr(true)},
			{CEL: `has(item.qty) ? double(string(item.qty)) >= 0.0 : item.status != "draft"`},
		},
		Transform: []configs.Transform{
			{Set: []configs.KeyJSON{{Key: "source", JSON: []byte(`"erp"`)}}},
			{JQ: `{id: .["-id"], status, source, n: ([..] | length)}`},
			{Rename: []configs.KeyValue{{Key: "n", Value: "count"}}},
		},
	}
	pairs := []struct {
		name   string
		p      *pair
		filter bool // reads the body as JSON first: its errors name "filter"
		steps  bool // has something to do
	}{
		{"cel filter and jq step among declarative ones, json", testPair(f, expressions, "json", limit), true, true},
		{"cel filter and jq step among declarative ones, xml", testPair(f, expressions, "xml", limit), true, true},
		{"every operator and step, json", testPair(f, every, "json", limit), true, true},
		{"every operator and step, xml", testPair(f, every, "xml", limit), true, true},
		{"every step, xml", testPair(f, configs.Route{Transform: every.Transform}, "xml", limit), false, true},
		{"nothing to do, json", testPair(f, configs.Route{}, "json", limit), false, false},
	}
	f.Fuzz(func(t *testing.T, item []byte) {
		in := bytes.Clone(item)
		readable := parsers.CheckJSON(item) == nil
		// Half the inputs come as raw tasks, which pass through untouched.
		taskType := "application/json"
		if len(item)%2 == 1 {
			taskType = "text/plain"
		}
		for _, pc := range pairs {
			body, ct, keep, err := pc.p.prepare(item, taskHeaders(taskType))
			if !bytes.Equal(in, item) {
				t.Fatalf("%s: the task body was changed", pc.name)
			}
			if !pc.steps {
				if err != nil || !keep || !bytes.Equal(body, item) || ct != taskType {
					t.Fatalf("%s (%s): %q %q %v %v, want the body as it came", pc.name, taskType, body, ct, keep, err)
				}
				continue
			}
			first := "transform"
			if pc.filter {
				first = "filter"
			}
			var u *unreadable
			switch {
			case !readable:
				if !errors.As(err, &u) || u.step != first {
					t.Fatalf("%s: CheckJSON refuses %q, prepare: %v; want the %s to refuse it", pc.name, item, err, first)
				}
			case err != nil:
				// Later steps may refuse it (an output too large or too
				// deep, a key that is no XML name), never as input.
				msg := err.Error()
				if strings.HasPrefix(msg, "filter: filter[1].cel: ") {
					break // the cel filter fails on this item (a missing key, a wrong type)
				}
				if strings.HasPrefix(msg, first+": the task body") || strings.HasPrefix(msg, first+": nesting") ||
					strings.Contains(msg, "result is not valid JSON") || !(strings.HasPrefix(msg, "transform") || strings.HasPrefix(msg, "format xml:")) {
					t.Fatalf("%s: readable %.200q refused with %q; want a later step named", pc.name, item, msg)
				}
			case !keep:
				if body != nil {
					t.Fatalf("%s: filtered out but body %q", pc.name, body)
				}
			case len(body) > limit:
				t.Fatalf("%s: %d bytes sent, over the limit %d", pc.name, len(body), limit)
			case ct == "application/json":
				if !json.Valid(body) {
					t.Fatalf("%s: invalid JSON %q from %q", pc.name, body, item)
				}
			case ct == "application/xml":
				wellFormed(t, body, "item")
			default:
				t.Fatalf("%s: Content-Type %q", pc.name, ct)
			}
		}
	})
}

// wellFormed fails t unless doc is one well-formed XML element named root.
func wellFormed(t *testing.T, doc []byte, root string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	depth, roots := 0, 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("malformed XML %q: %v", doc, err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if el.Name.Local != root {
					t.Fatalf("root element %q in %q, want %q", el.Name.Local, doc, root)
				}
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(el)) > 0 {
				t.Fatalf("text outside the root in %q", doc)
			}
		}
	}
	if roots != 1 {
		t.Fatalf("%d root elements in %q, want 1", roots, doc)
	}
}

// FuzzEncodeXML checks that every successful encoding is well-formed XML.
func FuzzEncodeXML(f *testing.F) {
	f.Add([]byte(`{"id":"42","-a":"1","#text":"t","lines":[{"sku":"A&B"}],"n":null}`))
	f.Add([]byte(`["a",{"b":1}]`))
	f.Add([]byte(`"<&>"`))
	f.Add([]byte(`{"a b":1}`))
	f.Fuzz(func(t *testing.T, item []byte) {
		out, err := encodeXML(item, "item", 1<<30)
		var u *unreadable
		switch {
		case err == nil:
			wellFormed(t, out, "item")
		case !errors.As(err, &u) || u.step != "format xml":
			t.Fatalf("error %v, want one naming format xml", err)
		}
	})
}

// FuzzParseRetryAfter: never a panic, never a negative delay.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"2", "0", "Wed, 25 Nov 2026 15:00:30 GMT", "-5", "99999999999999999999", "Monday, 02-Jan-06 15:04:05 MST", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, now)
		if d < 0 || (!ok && d != 0) {
			t.Fatalf("parseRetryAfter(%q) = %v, %v", v, d, ok)
		}
	})
}
