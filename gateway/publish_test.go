package gateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/parsers"
	"github.com/hookgate/hookgate/test/natstest"
)

// postJSON sends body to /webhooks/<id> and returns the request id.
func postJSON(t *testing.T, s *Server, id, body string, header ...string) string {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/webhooks/"+id, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("POST %s: status %d %s", id, rec.Code, rec.Body)
	}
	return rec.Header().Get("X-Request-Id")
}

// storedTasks reads the n tasks stored on subject.
func storedTasks(t *testing.T, js jetstream.JetStream, subject string, n int) []jetstream.Msg {
	t.Helper()
	return natstest.Read(t, js, "HOOKGATE_TASKS", subject, n)
}

// The message of a target is reused from request to request: a header one
// request forwarded or counted must not leak into the next.
func TestReusedTaskMessagesCarryOnlyTheirRequestsHeaders(t *testing.T) {
	s, js := logServer(t, configs.Webhook{Name: "full", Identifier: "full", Incoming: "items", Methods: []string{"POST"},
		AdditionalIncoming: []string{"streamed"}, ForwardHeaders: []string{"X-Event"}}, func(cfg *configs.Config) {
		cfg.Webhooks[0].Logging = false
		cfg.Incoming = append(cfg.Incoming, configs.Incoming{Name: "streamed", Subject: "tasks.streamed", Type: "s",
			Parser: "json", ReadMethod: "incremental", PatternToItems: "items", MaxItems: 100000})
	})
	type want struct {
		request, index, count, event, body string
	}
	var full, streamed []want
	// Alternating requests with and without the forwarded header, so that
	// a pooled message is reused by a request that differs from its last.
	for r := range 8 {
		event, items := "", []string{fmt.Sprintf(`{"r":%d}`, r)}
		if r%2 == 0 {
			event = fmt.Sprintf("order.%d", r)
			items = append(items, `{"a":2}`, `{"a":3}`)
		}
		var header []string
		if event != "" {
			header = []string{"X-Event", event}
		}
		id := postJSON(t, s, "full", `{"items":[`+strings.Join(items, ",")+`]}`, header...)
		for i, item := range items {
			full = append(full, want{id, fmt.Sprint(i), fmt.Sprint(len(items)), event, item})
			streamed = append(streamed, want{id, fmt.Sprint(i), "", event, item}) // incremental: no ce-itemcount
		}
	}
	check := func(subject, incoming string, wants []want) {
		t.Helper()
		for i, m := range storedTasks(t, js, subject, len(wants)) {
			w, h := wants[i], m.Headers()
			got := map[string]string{}
			for k, v := range h {
				got[k] = strings.Join(v, ",")
			}
			exp := map[string]string{
				"ce-specversion": "1.0", "ce-source": "/webhooks/full", "ce-type": map[string]string{"items": "t", "streamed": "s"}[incoming],
				"ce-id": w.request + "-" + incoming + "-" + w.index, "content-type": "application/json", "ce-webhook": "full",
				"ce-incoming": incoming, "ce-requestid": w.request, "ce-itemindex": w.index,
				"Nats-Msg-Id": "full/" + incoming + "/" + w.request + "/" + w.index, "ce-time": got["ce-time"],
			}
			if w.count != "" {
				exp["ce-itemcount"] = w.count
			}
			// A new trace per request (SPEC §12): its own test is TestTaskTraceContext.
			if tp := got["ce-traceparent"]; validTraceparent.MatchString(tp) {
				exp["ce-traceparent"] = tp
			}
			if w.event != "" {
				exp["X-Event"] = w.event
			}
			if fmt.Sprint(got) != fmt.Sprint(exp) {
				t.Errorf("%s task %d headers\n got %v\nwant %v", subject, i, got, exp)
			}
			if string(m.Data()) != w.body {
				t.Errorf("%s task %d body %s, want %s", subject, i, m.Data(), w.body)
			}
		}
	}
	check("tasks.items", "items", full)
	check("tasks.streamed", "streamed", streamed)
}

// Concurrent requests each publish their own items under their own ids:
// pooled messages are never shared by two requests at once.
func TestConcurrentRequestsPublishTheirOwnTasks(t *testing.T) {
	s, js := logServer(t, configs.Webhook{Name: "c", Identifier: "c", Incoming: "items", Methods: []string{"POST"}}, func(cfg *configs.Config) {
		cfg.Webhooks[0].Logging = false
	})
	const workers, requests, items = 8, 10, 5
	var mu sync.Mutex
	bodyOf := map[string]string{} // ce-id -> the item that request sent
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for r := range requests {
				parts := make([]string, items)
				for i := range parts {
					parts[i] = fmt.Sprintf(`{"w":%d,"r":%d,"i":%d}`, w, r, i)
				}
				id := postJSON(t, s, "c", `{"items":[`+strings.Join(parts, ",")+`]}`)
				mu.Lock()
				for i, p := range parts {
					bodyOf[fmt.Sprintf("%s-items-%d", id, i)] = p
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	msgs := storedTasks(t, js, "tasks.items", workers*requests*items)
	for _, m := range msgs {
		id := m.Headers().Get("ce-id")
		want, ok := bodyOf[id]
		if !ok || string(m.Data()) != want {
			t.Errorf("task %s holds %s, want %s", id, m.Data(), want)
		}
		var item struct{ I int }
		if err := json.Unmarshal(m.Data(), &item); err != nil || m.Headers().Get("ce-itemindex") != fmt.Sprint(item.I) {
			t.Errorf("task %s: ce-itemindex %s for item %s", id, m.Headers().Get("ce-itemindex"), m.Data())
		}
		delete(bodyOf, id)
	}
	if len(bodyOf) != 0 {
		t.Errorf("%d items never stored", len(bodyOf))
	}
}

// An incremental XML body too large to stay in memory is split with each
// item written over the last (SplitTransient): every stored task must
// still carry its own item, whatever the lengths of the items around it.
func TestIncrementalItemsAreStoredWhole(t *testing.T) {
	in := configs.Incoming{Name: "orders", Subject: "tasks.orders", Type: "o", Parser: "xml", ReadMethod: "incremental",
		PatternToItems: "Orders.Order", MaxItems: 100000}
	s, js := logServer(t, configs.Webhook{Name: "x", Identifier: "x", Incoming: "orders", Methods: []string{"POST"}}, func(cfg *configs.Config) {
		cfg.Webhooks[0].Logging = false
		cfg.Incoming = append(cfg.Incoming, in)
	})
	const n = 6000
	var body strings.Builder
	body.WriteString("<Orders>")
	for i := range n {
		fmt.Fprintf(&body, `<Order id="%d"><Note>%s</Note></Order>`, i, strings.Repeat("n", i*7%300))
	}
	body.WriteString("</Orders>")
	if body.Len() <= memoryLimit {
		t.Fatalf("body of %d bytes stays in memory; the test needs it spooled", body.Len())
	}
	// The items as full mode keeps them, each in its own place.
	full := in
	full.ReadMethod = "full"
	sp, err := parsers.New(full, 4<<20)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	if err := sp.SplitBytes(t.Context(), "application/xml", []byte(body.String()), func(it parsers.Item) error {
		want = append(want, string(it.Data))
		return nil
	}); err != nil || len(want) != n {
		t.Fatalf("full split: %d items, %v", len(want), err)
	}

	req := httptest.NewRequest(http.MethodPost, "/webhooks/x", strings.NewReader(body.String()))
	req.Header.Set("Content-Type", "application/xml")
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), fmt.Sprintf(`"tasks":%d`, n)) {
		t.Fatalf("POST: %d %s", rec.Code, rec.Body)
	}
	for i, m := range storedTasks(t, js, "tasks.orders", n) {
		if string(m.Data()) != want[i] {
			t.Fatalf("task %d body %s, want %s", i, m.Data(), want[i])
		}
	}
}
