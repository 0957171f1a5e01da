package router

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/hookgate/hookgate/configs"
)

// FuzzTransform runs the filter and the SPEC §6 example transform on
// arbitrary items: never a panic, and a JSON result whenever it succeeds.
func FuzzTransform(f *testing.F) {
	f.Add([]byte(`{"-id":"42","status":"released","Lines":{"Line":[{"sku":"A"}]},"internalNotes":"x"}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`"str"`))
	f.Add([]byte(`{"status":{"nested":[1,2,{"a":null}]}}`))
	fl, err := compileFilter([]configs.Condition{{Path: "status", NotEquals: ptr("draft")}, {Path: "qty", Exists: ptr(false)}})
	if err != nil {
		f.Fatal(err)
	}
	tr, err := compileTransform([]configs.Transform{
		{Map: []configs.KeyValue{{Key: "orderId", Value: "-id"}, {Key: "lines", Value: "Lines.Line"}, {Key: "status", Value: "status"}}},
		{Set: []configs.KeyJSON{{Key: "source", JSON: []byte(`"erp"`)}}},
		{Rename: []configs.KeyValue{{Key: "orderId", Value: "id"}}},
		{Remove: []string{"internalNotes"}},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, item []byte) {
		in := bytes.Clone(item)
		_ = fl.match(item)
		out, err := tr.apply(item)
		if !bytes.Equal(in, item) {
			t.Fatal("the task body was changed")
		}
		if err == nil && !json.Valid(out) {
			t.Fatalf("invalid JSON %q from %q", out, item)
		}
	})
}

// FuzzEncodeXML checks that every successful encoding is well-formed XML.
func FuzzEncodeXML(f *testing.F) {
	f.Add([]byte(`{"id":"42","-a":"1","#text":"t","lines":[{"sku":"A&B"}],"n":null}`))
	f.Add([]byte(`["a",{"b":1}]`))
	f.Add([]byte(`"<&>"`))
	f.Add([]byte(`{"a b":1}`))
	f.Fuzz(func(t *testing.T, item []byte) {
		out, err := encodeXML(item, "item")
		if err != nil {
			return
		}
		dec := xml.NewDecoder(bytes.NewReader(out))
		for {
			_, err := dec.Token()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				t.Fatalf("malformed XML %q from %q: %v", out, item, err)
			}
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
