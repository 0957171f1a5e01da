package parsers

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/configs"
	"github.com/tidwall/gjson"
)

// ordersXMLBody is about 1 MiB with n orders of about 520 bytes each.
func ordersXMLBody(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Orders>\n")
	for i := range n {
		fmt.Fprintf(&b, `  <Order id="%d" status="released">
    <Number>SO-%06d</Number>
    <Customer><Name>Customer %d</Name><Email>c%d@example.com</Email></Customer>
    <Lines>
      <Line><Sku>SKU-%d-1</Sku><Qty>2</Qty><Price currency="EUR">9.95</Price></Line>
      <Line><Sku>SKU-%d-2</Sku><Qty>1</Qty><Price currency="EUR">19.50</Price></Line>
      <Line><Sku>SKU-%d-3</Sku><Qty>7</Qty><Price currency="EUR">0.99</Price></Line>
    </Lines>
    <Note>%s</Note>
  </Order>
`, i, i, i, i, i, i, i, strings.Repeat("n", 40))
	}
	b.WriteString("</Orders>\n")
	return b.Bytes()
}

// json1KiB is a typical 1 KiB webhook (a GitHub-like push event).
func json1KiB() []byte {
	var b bytes.Buffer
	b.WriteString(`{"ref":"refs/heads/main","before":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","after":"0000000000000000000000000000000000000000","repository":{"id":186853002,"name":"hookgate","full_name":"hookgate/hookgate","private":false,"owner":{"login":"hookgate","id":21031067},"html_url":"https://github.com/hookgate/hookgate","description":"inbound webhook gateway","fork":false},"pusher":{"name":"octocat","email":"octocat@example.com"},"commits":[`)
	for i := 0; b.Len() < 1000; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"%040d","message":"Update README %d","timestamp":"2026-11-25T15:00:00Z"}`, i, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func BenchmarkSplitJSON1KiB(b *testing.B) {
	body := json1KiB()
	for _, bc := range []struct{ name, pattern string }{{"whole", ""}, {"commits", "commits"}} {
		in := configs.Incoming{Name: "b", Parser: "json", PatternToItems: bc.pattern}
		b.Run(bc.name+"/bytes", func(b *testing.B) { benchSplit(b, in, "application/json", body, inMemory) })
		b.Run(bc.name+"/reader", func(b *testing.B) { benchSplit(b, in, "application/json", body, fromReader) })
	}
}

func BenchmarkSplitXML2000Orders(b *testing.B) {
	body := ordersXMLBody(2000)
	for _, method := range []string{"full", "incremental"} {
		b.Run(method, func(b *testing.B) {
			n := benchSplitReader(b, configs.Incoming{Name: "b", Parser: "xml", ReadMethod: method, PatternToItems: "Orders.Order"}, body)
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
		})
	}
	// What the gateway calls for an incremental body: incremental is its
	// baseline (each item kept in its own place).
	b.Run("incremental-transient", func(b *testing.B) {
		n := benchSplitTransient(b, configs.Incoming{Name: "b", Parser: "xml", ReadMethod: "incremental", PatternToItems: "Orders.Order"}, "application/xml", body)
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
	})
}

// benchSplitTransient is benchSplit from a reader through SplitTransient.
func benchSplitTransient(b *testing.B, in configs.Incoming, ct string, body []byte) int {
	s, err := New(in, testMaxBody)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	n := 0
	yield := func(Item) error { n++; return nil }
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	r := bytes.NewReader(body)
	for b.Loop() {
		r.Reset(body)
		if err := s.SplitTransient(ctx, ct, r, yield); err != nil {
			b.Fatal(err)
		}
	}
	return n
}

// How benchSplit hands a body over: Split on a reader, or SplitBytes.
const (
	fromReader = false
	inMemory   = true
)

// benchSplitReader is benchSplit of an XML (or CSV) body from a reader.
func benchSplitReader(b *testing.B, in configs.Incoming, body []byte) int {
	return benchSplit(b, in, "application/xml", body, fromReader)
}

// benchSplit splits body with in's settings b.N times and returns how many
// items came out in all.
func benchSplit(b *testing.B, in configs.Incoming, ct string, body []byte, bytesInMemory bool) int {
	s, err := New(in, testMaxBody)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	n := 0
	yield := func(Item) error { n++; return nil }
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	r := bytes.NewReader(body)
	for b.Loop() {
		if bytesInMemory {
			err = s.SplitBytes(ctx, ct, body, yield)
		} else {
			r.Reset(body)
			err = s.Split(ctx, ct, r, yield)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	return n
}

// BenchmarkGJSONGetBytes1KiB is the gateway's baseline: one gjson lookup on
// the same body, to compare BenchmarkSplitJSON1KiB with.
func BenchmarkGJSONGetBytes1KiB(b *testing.B) {
	body := json1KiB()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if !gjson.GetBytes(body, "repository.id").Exists() {
			b.Fatal("path missing")
		}
	}
}

// BenchmarkSplitXML2000OrdersBytes is the full-mode split of a body already
// in memory (SplitBytes, the gateway's path for bodies up to 1 MiB), beside
// BenchmarkSplitXML2000Orders's split from a reader.
func BenchmarkSplitXML2000OrdersBytes(b *testing.B) {
	in := configs.Incoming{Name: "b", Parser: "xml", PatternToItems: "Orders.Order"}
	n := benchSplit(b, in, "application/xml", ordersXMLBody(2000), inMemory)
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkSplitCSV2000Rows splits a 2,000-row CSV export (8 columns, one
// quoted) in both read methods.
func BenchmarkSplitCSV2000Rows(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("sku,name,qty,price,warehouse,status,updated,note\n")
	for i := range 2000 {
		fmt.Fprintf(&sb, "SKU-%05d,Widget %d,%d,%d.95,AMS-%d,released,2026-01-%02dT10:00:00Z,\"fragile, \"\"handle\"\" with care\"\n", i, i, i%17, i%100, i%3, i%28+1)
	}
	body := []byte(sb.String())
	for _, method := range []string{"full", "incremental"} {
		b.Run(method, func(b *testing.B) {
			n := benchSplitReader(b, configs.Incoming{Name: "b", Parser: "csv", ReadMethod: method}, body)
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
		})
	}
	b.Run("incremental-transient", func(b *testing.B) {
		n := benchSplitTransient(b, configs.Incoming{Name: "b", Parser: "csv", ReadMethod: "incremental"}, "text/csv", body)
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
	})
}
