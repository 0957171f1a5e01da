package gateway

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/tidwall/gjson"
	"go.uber.org/zap"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
	"github.com/hookgate/hookgate/test/natstest"
)

// cpuTime is the process's user+system CPU time: the benchmarks compare
// CPU per request, which a noisy machine disturbs less than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs fn b.N times and reports CPU nanoseconds per operation.
func measure(b *testing.B, fn func()) {
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	for b.Loop() {
		fn()
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

func benchBus(b *testing.B) *bus.Bus {
	ns := natstest.Start(b)
	bs, err := bus.Open(context.Background(), configs.NATS{URL: ns.ClientURL(), PublishTimeout: 5 * time.Second}, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = bs.Close(context.Background()) })
	return bs
}

func benchServer(b *testing.B, bs *bus.Bus, wh configs.Webhook, in configs.Incoming) *Server {
	cfg := &configs.Config{
		Server:   configs.Server{MaxBody: 10 << 20},
		NATS:     configs.NATS{PublishTimeout: 5 * time.Second},
		Webhooks: []configs.Webhook{wh},
		Incoming: []configs.Incoming{in},
	}
	rt, err := Build(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return New(rt, bs, zap.NewNop())
}

func post(b *testing.B, h http.Handler, path, contentType string, body []byte) {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
}

// json1KiB is a typical 1 KiB order event.
func json1KiB() []byte {
	var sb strings.Builder
	sb.WriteString(`{"id":"evt_1","type":"order.updated","data":{"order":{"id":1001,"status":"released","lines":[`)
	for i := 0; sb.Len() < 1000; i++ {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `{"sku":"SKU-%04d","qty":%d,"price":"%d.95"}`, i, i+1, i*3)
	}
	sb.WriteString(`]}}}`)
	return []byte(sb.String())
}

// BenchmarkIngestJSON1KiB is one 1 KiB JSON request end to end through the
// echo handler to the JetStream ack, beside a baseline handler that only
// reads the body, calls gjson.GetBytes and publishes one message.
func BenchmarkIngestJSON1KiB(b *testing.B) {
	body := json1KiB()

	b.Run("baseline", func(b *testing.B) {
		// A fresh server per run: no stream grows from the runs before.
		bs := benchBus(b)
		h := baselineHandler(bs, func(body []byte) *nats.Msg {
			return &nats.Msg{Subject: "tasks.baseline", Data: body}
		})
		measure(b, func() { post(b, h, "/", "application/json", body) })
	})
	// The same baseline, publishing the SPEC §7 envelope (12 headers with
	// Nats-Msg-Id): what JetStream itself costs for a task, so that the gap
	// to hookgate is hookgate's own work.
	b.Run("baseline-envelope", func(b *testing.B) {
		// A fresh server per run: no stream grows from the runs before.
		bs := benchBus(b)
		run := 0
		h := baselineHandler(bs, func(body []byte) *nats.Msg {
			run++
			return &nats.Msg{Subject: "tasks.baseline", Data: body, Header: envelope(run, "orders", 0, 1)}
		})
		measure(b, func() { post(b, h, "/", "application/json", body) })
	})
	b.Run("hookgate", func(b *testing.B) {
		// A fresh server per run: no stream grows from the runs before.
		bs := benchBus(b)
		s := benchServer(b, bs,
			configs.Webhook{Name: "Orders", Identifier: "orders", Incoming: "orders", Methods: []string{"POST"}, MaxBody: 10 << 20},
			configs.Incoming{Name: "orders", Parser: "json", ReadMethod: "full", OnEmpty: "reject", MaxItems: 100000, Subject: "tasks.orders", Type: "hookgate.orders"})
		measure(b, func() { post(b, s.Handler(), "/webhooks/orders", "application/json", body) })
	})
}

// baselineHandler only reads the body, calls gjson.GetBytes and publishes
// msgFor(body), answering after the ack: the least an ingest path does.
func baselineHandler(bs *bus.Bus, msgFor func([]byte) *nats.Msg) http.Handler {
	js := bs.JetStream()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(r.Body)
		if !gjson.GetBytes(buf.Bytes(), "id").Exists() {
			http.Error(w, "no id", http.StatusBadRequest)
			return
		}
		f, err := js.PublishMsgAsync(msgFor(buf.Bytes()))
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		select {
		case <-f.Ok():
			_, _ = w.Write([]byte(`{"tasks":1}`))
		case err := <-f.Err():
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	})
}

// envelope is the SPEC §7 header set of item idx of count of request run,
// with a Nats-Msg-Id unique to that item as hookgate's is.
func envelope(run int, name string, idx, count int) nats.Header {
	id := fmt.Sprintf("019ab7c2-0000-7000-8000-%012d", run)
	i := strconv.Itoa(idx)
	return nats.Header{
		"ce-specversion": {"1.0"}, "ce-id": {id + "-" + name + "-" + i}, "ce-source": {"/webhooks/" + name},
		"ce-type": {"hookgate." + name}, "ce-time": {"2026-11-25T15:31:00.123456789Z"},
		"content-type": {"application/json"}, "ce-webhook": {name}, "ce-incoming": {name},
		"ce-requestid": {id}, "ce-itemindex": {i}, "ce-itemcount": {strconv.Itoa(count)},
		"Nats-Msg-Id": {name + "/" + name + "/" + id + "/" + i},
	}
}

// publishPreSplit measures publishing n messages per operation in one
// Batch and waiting for every ack, on a fresh server.
func publishPreSplit(b *testing.B, n int, msg func(run, i int) *nats.Msg) {
	bs := benchBus(b)
	ctx := context.Background()
	run := 0
	measure(b, func() {
		run++
		batch := bs.NewBatch()
		for i := 0; i < n; i++ {
			if err := batch.Add(ctx, msg(run, i)); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := batch.Wait(ctx); err != nil {
			b.Fatal(err)
		}
	})
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "items/s")
}

// ordersXML is about 1 MiB of XML holding n orders.
func ordersXML(n int) []byte {
	var sb strings.Builder
	sb.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Orders>\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, `<Order id="%d" status="released"><Customer>Jürgen Müller %d</Customer><Date>2026-11-25</Date>`+
			`<Lines><Line sku="A-%d"><Qty>2</Qty><Price>10.50</Price></Line><Line sku="B-%d"><Qty>1</Qty><Price>99.00</Price></Line></Lines>`+
			`<Note>%s</Note></Order>`+"\n", i, i, i, i, strings.Repeat("x", 260))
	}
	sb.WriteString("</Orders>\n")
	return []byte(sb.String())
}

// BenchmarkIngestXML2000Orders splits a 1 MiB XML of 2,000 orders and
// publishes every order, beside a baseline that publishes 2,000 items
// already split (the same sizes) and waits for their acks.
func BenchmarkIngestXML2000Orders(b *testing.B) {
	const orders = 2000
	body := ordersXML(orders)
	if len(body) < 900<<10 {
		b.Fatalf("body is %d bytes, want about 1 MiB", len(body))
	}
	item := bytes.Repeat([]byte("x"), len(body)/orders)

	b.Run("baseline", func(b *testing.B) {
		publishPreSplit(b, orders, func(run, i int) *nats.Msg {
			return &nats.Msg{Subject: "tasks.baseline", Data: item}
		})
	})
	// Pre-split items with the SPEC §7 envelope: JetStream's own cost of
	// storing tasks (headers, de-duplication by Nats-Msg-Id).
	b.Run("baseline-envelope", func(b *testing.B) {
		publishPreSplit(b, orders, func(run, i int) *nats.Msg {
			return &nats.Msg{Subject: "tasks.baseline", Data: item, Header: envelope(run, "erp", i, orders)}
		})
	})
	// full parses the whole body before publishing; incremental publishes
	// while it reads.
	for _, method := range []string{"full", "incremental"} {
		name := "hookgate"
		if method != "full" {
			name += "-" + method
		}
		b.Run(name, func(b *testing.B) {
			// A fresh server per run: no stream grows from the runs before.
			bs := benchBus(b)
			s := benchServer(b, bs,
				configs.Webhook{Name: "ERP", Identifier: "erp", Incoming: "erp", Methods: []string{"POST"}, MaxBody: 10 << 20},
				configs.Incoming{Name: "erp", Parser: "xml", ReadMethod: method, PatternToItems: "Orders.Order", OnEmpty: "reject", MaxItems: 100000, Subject: "tasks.erp", Type: "hookgate.erp"})
			b.SetBytes(int64(len(body)))
			measure(b, func() { post(b, s.Handler(), "/webhooks/erp", "application/xml", body) })
			b.ReportMetric(float64(orders*b.N)/b.Elapsed().Seconds(), "items/s")
		})
	}

}
