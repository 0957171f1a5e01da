package test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// ordersConfig is an ERP webhook with an XML incoming configuration and a
// JSON one, covering every rejection of SPEC §3.1 that a config can cause.
const ordersConfig = baseConfig + `
webhooks:
  - name: ERP Orders
    incoming: erp-orders
    additional_incoming: [erp-audit]
    forward_headers: [X-Erp-Event]
    dedup_key: header:X-Delivery
    pre_processors:
      - header_secret: {header: X-Alumio-Auth, secret: "${ERP_SECRET:-VerySecret}"}
  - name: Shop JSON
    identifier: shop
    incoming: shop-orders
    methods: [POST, PUT]
    max_body: 2KiB
    post_processors:
      - respond: {status: 202, content_type: application/json, body: '{"ok":true,"id":"{request_id}","n":{tasks}}'}
  - {name: Auto, identifier: auto, incoming: auto-items}
  - {name: Few, identifier: few, incoming: few-items}
  - {name: Strict, identifier: strict, incoming: strict-items}
  - {name: Lenient, identifier: lenient, incoming: lenient-items}
  - {name: Limited, identifier: limited, incoming: auto-items, rate_limit: 1/m}
  - {name: Off, identifier: off, incoming: auto-items, disabled: true}
incoming:
  - {name: erp-orders, parser: xml, pattern_to_items: Orders.Order, type: com.example.erp.order}
  - {name: erp-audit, parser: raw}
  - {name: shop-orders, parser: json, pattern_to_items: orders}
  - {name: auto-items, parser: auto}
  - {name: few-items, parser: json, pattern_to_items: items, max_items: 2}
  - {name: strict-items, parser: json, pattern_to_items: items}
  - {name: lenient-items, parser: json, pattern_to_items: items, on_empty: accept}
`

const ordersXML = `<?xml version="1.0" encoding="UTF-8"?>
<Orders>
  <Order id="1001" status="released"><Customer>Jürgen Müller</Customer><Total>12.50</Total></Order>
  <Order id="1002" status="draft"><Customer>Ann</Customer><Total>007</Total></Order>
</Orders>`

var uuidV7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestIngestXMLOrdersStoresOneTaskPerOrderWithTheSpecHeaders(t *testing.T) {
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": ordersConfig}))
	resp := hg.post("erp-orders", "application/xml; charset=utf-8", []byte(ordersXML),
		"X-Alumio-Auth: VerySecret", "X-Erp-Event: order.changed", "X-Delivery: d-1")
	if resp.Status != http.StatusOK {
		t.Fatalf("status %d, body %s", resp.Status, resp.Raw)
	}
	id := resp.Header.Get("X-Request-Id")
	if !uuidV7.MatchString(id) {
		t.Fatalf("X-Request-Id %q is not a UUIDv7", id)
	}
	if want := `{"request_id":"` + id + `","tasks":3}`; string(resp.Raw) != want {
		t.Fatalf("body %s, want %s", resp.Raw, want)
	}

	orders := storedTasks(t, hg.NATSURL, "tasks.erp-orders")
	wantItems := []string{
		`{"-id":"1001","-status":"released","Customer":"Jürgen Müller","Total":"12.50"}`,
		`{"-id":"1002","-status":"draft","Customer":"Ann","Total":"007"}`,
	}
	if len(orders) != len(wantItems) {
		t.Fatalf("%d tasks on tasks.erp-orders, want %d", len(orders), len(wantItems))
	}
	for i, task := range orders {
		if !jsonEqual(task.Data, wantItems[i]) {
			t.Errorf("task %d body %s, want %s", i, task.Data, wantItems[i])
		}
		idx := []string{"0", "1"}[i]
		want := map[string]string{
			"ce-specversion": "1.0",
			"ce-id":          id + "-erp-orders-" + idx,
			"ce-source":      "/webhooks/erp-orders",
			"ce-type":        "com.example.erp.order",
			"content-type":   "application/json",
			"ce-webhook":     "erp-orders",
			"ce-incoming":    "erp-orders",
			"ce-requestid":   id,
			"ce-itemindex":   idx,
			"ce-itemcount":   "2",
			"Nats-Msg-Id":    "erp-orders/erp-orders/d-1/" + idx,
			"X-Erp-Event":    "order.changed",
		}
		assertHeaders(t, task.Header, want, "ce-time", "ce-traceparent") // tracing_test.go checks it
		ceTime, err := time.Parse(time.RFC3339Nano, task.Header.Get("ce-time"))
		if err != nil || ceTime.Location() != time.UTC || time.Since(ceTime) > time.Minute {
			t.Errorf("ce-time %q is not a recent RFC 3339 UTC time", task.Header.Get("ce-time"))
		}
	}

	audit := storedTasks(t, hg.NATSURL, "tasks.erp-audit")
	if len(audit) != 1 {
		t.Fatalf("%d tasks on tasks.erp-audit, want 1 (the raw body)", len(audit))
	}
	if !bytes.Equal(audit[0].Data, []byte(ordersXML)) {
		t.Errorf("raw task is not the body byte for byte: %q", audit[0].Data)
	}
	if ct := audit[0].Header.Get("content-type"); ct != "application/xml; charset=utf-8" {
		t.Errorf("raw task content-type %q, want the request's", ct)
	}
	if got := audit[0].Header.Get("Nats-Msg-Id"); got != "erp-orders/erp-audit/d-1/0" {
		t.Errorf("raw task Nats-Msg-Id %q", got)
	}

	// The sender's retry with the same delivery id stores nothing new.
	again := hg.post("erp-orders", "application/xml", []byte(ordersXML), "X-Alumio-Auth: VerySecret", "X-Delivery: d-1")
	if again.Status != http.StatusOK || again.Body["duplicate"] != true || again.Body["tasks"] != float64(3) {
		t.Fatalf("retry: status %d body %s, want 200 with tasks 3 and duplicate true", again.Status, again.Raw)
	}
	if n := len(storedTasks(t, hg.NATSURL, "tasks.erp-orders")); n != 2 {
		t.Errorf("after a duplicate delivery %d tasks are stored, want 2", n)
	}
}

func TestIngestJSONItemsAreTheExactBytesOfTheBody(t *testing.T) {
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": ordersConfig}))
	body := []byte(`{"orders":[ {"b":1,  "a":"x"} ,{"z":[1,2],"c":null}],"other":true}`)
	resp := hg.do(http.MethodPut, "shop", "application/json", body)
	if resp.Status != http.StatusAccepted {
		t.Fatalf("status %d body %s, want the respond post-processor's 202", resp.Status, resp.Raw)
	}
	id := resp.Header.Get("X-Request-Id")
	if want := `{"ok":true,"id":"` + id + `","n":2}`; string(resp.Raw) != want {
		t.Errorf("respond body %s, want %s", resp.Raw, want)
	}
	tasks := storedTasks(t, hg.NATSURL, "tasks.shop-orders")
	want := []string{`{"b":1,  "a":"x"}`, `{"z":[1,2],"c":null}`}
	if len(tasks) != 2 {
		t.Fatalf("%d tasks, want 2", len(tasks))
	}
	for i := range want {
		if string(tasks[i].Data) != want[i] {
			t.Errorf("task %d is %q, want the body's bytes %q", i, tasks[i].Data, want[i])
		}
	}
	if got := tasks[0].Header.Get("Nats-Msg-Id"); got != "shop/shop-orders/"+id+"/0" {
		t.Errorf("without a dedup key Nats-Msg-Id uses the request id: %q", got)
	}
	if got := tasks[0].Header.Get("ce-type"); got != "hookgate.shop-orders" {
		t.Errorf("default ce-type %q", got)
	}
}

func TestIngestRejectionsFollowTheSpec(t *testing.T) {
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": ordersConfig}))
	deep := strings.Repeat(`{"a":`, 600) + "1" + strings.Repeat("}", 600)
	cases := []struct {
		name, method, id, contentType, body string
		headers                             []string
		status                              int
		errorPrefix                         string
		header                              [2]string
	}{
		{name: "unknown identifier is 404", id: "nope", body: "{}", status: 404, errorPrefix: "unknown webhook"},
		{name: "disabled webhook is 404", id: "off", contentType: "application/json", body: "{}", status: 404, errorPrefix: "unknown webhook"},
		{name: "GET is not allowed, with Allow", method: http.MethodGet, id: "shop", status: 405, header: [2]string{"Allow", "POST, PUT"}},
		{name: "missing header secret is 401", id: "erp-orders", contentType: "application/xml", body: ordersXML, status: 401, errorPrefix: "Wrong authentication token provided"},
		{name: "wrong header secret is 401", id: "erp-orders", contentType: "application/xml", body: ordersXML, headers: []string{"X-Alumio-Auth: verysecret"}, status: 401, errorPrefix: "Wrong authentication token provided"},
		{name: "body over max_body is 413 naming the limit", id: "shop", contentType: "application/json", body: `{"orders":["` + strings.Repeat("x", 3000) + `"]}`, status: 413, errorPrefix: "body exceeds 2KiB"},
		{name: "more items than max_items is 413", id: "few", contentType: "application/json", body: `{"items":[1,2,3]}`, status: 413, errorPrefix: "more than 2 items"},
		{name: "nesting deeper than 512 is 400", id: "auto", contentType: "application/json", body: deep, status: 400, errorPrefix: "nesting deeper than 512"},
		{name: "unsupported content type is 415", id: "auto", contentType: "image/png", body: "PNG", status: 415, errorPrefix: "unsupported Content-Type"},
		{name: "malformed XML is 400 with its position", id: "erp-orders", contentType: "application/xml", body: "<Orders>\n<Order>\n</Orders>", headers: []string{"X-Alumio-Auth: VerySecret"}, status: 400, errorPrefix: "invalid XML at line 3"},
		{name: "malformed JSON is 400 with its position", id: "auto", contentType: "application/json", body: "{\n \"a\": tru }", status: 400, errorPrefix: "invalid JSON at line 2"},
		{name: "pattern matching nothing is 422 naming it", id: "strict", contentType: "application/json", body: `{"other":[1]}`, status: 422, errorPrefix: ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			resp := hg.do(method, tc.id, tc.contentType, []byte(tc.body), tc.headers...)
			if resp.Status != tc.status {
				t.Fatalf("status %d body %s, want %d", resp.Status, resp.Raw, tc.status)
			}
			msg, _ := resp.Body["error"].(string)
			if !strings.HasPrefix(msg, tc.errorPrefix) || msg == "" {
				t.Errorf("error %q, want it to start with %q", msg, tc.errorPrefix)
			}
			if tc.status == 415 && !strings.Contains(msg, "image/png") {
				t.Errorf("415 %q does not name the type", msg)
			}
			if tc.status == 422 && !strings.Contains(msg, "items") {
				t.Errorf("422 %q does not name the pattern", msg)
			}
			id := resp.Header.Get("X-Request-Id")
			if !uuidV7.MatchString(id) || resp.Body["request_id"] != id {
				t.Errorf("request id %q / body %v: every response carries one UUIDv7", id, resp.Body["request_id"])
			}
			if tc.header[0] != "" && resp.Header.Get(tc.header[0]) != tc.header[1] {
				t.Errorf("%s: %q, want %q", tc.header[0], resp.Header.Get(tc.header[0]), tc.header[1])
			}
		})
	}
	if n := len(storedTasks(t, hg.NATSURL, "tasks.>")); n != 0 {
		t.Errorf("rejected requests stored %d tasks, want 0", n)
	}

	t.Run("a path outside /webhooks is a JSON 404 with a request id", func(t *testing.T) {
		resp, err := http.Get(hg.URL + "/nope")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if resp.StatusCode != 404 || json.NewDecoder(resp.Body).Decode(&body) != nil ||
			!uuidV7.MatchString(resp.Header.Get("X-Request-Id")) || body["request_id"] != resp.Header.Get("X-Request-Id") {
			t.Fatalf("%d %v %q", resp.StatusCode, body, resp.Header.Get("X-Request-Id"))
		}
	})
	t.Run("on_empty accept is 200 with no tasks", func(t *testing.T) {
		resp := hg.post("lenient", "application/json", []byte(`{"other":1}`))
		if resp.Status != 200 || resp.Body["tasks"] != float64(0) {
			t.Fatalf("status %d body %s", resp.Status, resp.Raw)
		}
	})
	t.Run("rate limit is 429 with Retry-After", func(t *testing.T) {
		first := hg.post("limited", "application/json", []byte(`{"a":1}`))
		second := hg.post("limited", "application/json", []byte(`{"a":2}`))
		if first.Status != 200 || second.Status != 429 || second.Header.Get("Retry-After") == "" {
			t.Fatalf("statuses %d, %d (Retry-After %q), want 200 then 429 with Retry-After",
				first.Status, second.Status, second.Header.Get("Retry-After"))
		}
	})
}

func TestItemAboveMaxPayloadIs413AndNothingIsPublished(t *testing.T) {
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": ordersConfig}), "TEST_MAX_PAYLOAD=64KiB")
	big := `{"items":[{"n":1},{"n":"` + strings.Repeat("x", 70<<10) + `"}]}`
	resp := hg.post("strict", "application/json", []byte(big))
	if resp.Status != 413 || resp.Body["error"] != "item 1 exceeds max payload 64KiB" {
		t.Fatalf("status %d body %s", resp.Status, resp.Raw)
	}
	if n := len(storedTasks(t, hg.NATSURL, "tasks.>")); n != 0 {
		t.Errorf("%d tasks stored, want none of the request", n)
	}
}

func TestDirectoryConfigMergesFiles(t *testing.T) {
	dir := writeConfig(t, map[string]string{
		"hookgate.yaml": baseConfig,
		"erp.yaml": `
webhooks:
  - {name: Stock, incoming: stock}
`,
		"incoming.yml": `
incoming:
  - {name: stock, parser: csv}
`,
	})
	hg := start(t, dir)
	resp := hg.post("stock", "text/csv", []byte("sku,qty\nA-1,5\n\nB-2,0\n"))
	if resp.Status != 200 || resp.Body["tasks"] != float64(2) {
		t.Fatalf("status %d body %s", resp.Status, resp.Raw)
	}
	tasks := storedTasks(t, hg.NATSURL, "tasks.stock")
	if len(tasks) != 2 || !jsonEqual(tasks[1].Data, `{"sku":"B-2","qty":"0"}`) {
		t.Fatalf("tasks %v", tasks)
	}
}

func jsonEqual(got []byte, want string) bool {
	var a, b any
	if json.Unmarshal(got, &a) != nil || json.Unmarshal([]byte(want), &b) != nil {
		return false
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// assertHeaders checks every wanted header exactly, and that no other
// header is present except those listed in also.
func assertHeaders(t *testing.T, got map[string][]string, want map[string]string, also ...string) {
	t.Helper()
	for k, v := range want {
		if vs := got[k]; len(vs) != 1 || vs[0] != v {
			t.Errorf("header %s = %q, want %q", k, vs, v)
		}
	}
	allowed := map[string]bool{}
	for _, k := range also {
		allowed[k] = true
	}
	for k := range got {
		if _, ok := want[k]; !ok && !allowed[k] {
			t.Errorf("unexpected header %s: %q", k, got[k])
		}
	}
}
