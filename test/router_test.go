package test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/test/natstest"
)

// routerBase is one JSON webhook whose items (under "items") are the tasks
// the routes of each test deliver.
const routerBase = baseConfig + `
webhooks:
  - {name: Orders, identifier: orders, incoming: orders}
incoming:
  - {name: orders, parser: json, pattern_to_items: items}
`

// fastRetry keeps backoff short so that retries happen within a test.
const fastRetry = `retry: {max_attempts: 5, initial_interval: 100ms, max_interval: 1s}`

// delivery is one request a receiver got.
type delivery struct {
	At     time.Time
	Header http.Header
	Body   []byte
}

// receiver is an outgoing system on 127.0.0.1 that records every request
// before answering it, so that a task acknowledged by the router has
// always been recorded.
type receiver struct {
	*httptest.Server
	got chan delivery

	mu  sync.Mutex
	all []delivery
}

// newReceiver starts a receiver; answer (nil: 200) writes the response to
// the n-th request (0-based).
func newReceiver(t *testing.T, answer func(n int, d delivery, w http.ResponseWriter)) *receiver {
	t.Helper()
	r := &receiver{got: make(chan delivery, 1000)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		d := delivery{At: time.Now(), Header: req.Header.Clone(), Body: body}
		r.mu.Lock()
		n := len(r.all)
		r.all = append(r.all, d)
		r.mu.Unlock()
		r.got <- d
		if answer == nil {
			w.WriteHeader(http.StatusOK)
			return
		}
		answer(n, d, w)
	}))
	t.Cleanup(r.Close)
	return r
}

// retryAfterOnce answers the first request with status and Retry-After:
// after, and every later one with 200.
func retryAfterOnce(status int, after string) func(int, delivery, http.ResponseWriter) {
	return func(n int, _ delivery, w http.ResponseWriter) {
		if n == 0 {
			w.Header().Set("Retry-After", after)
			w.WriteHeader(status)
		}
	}
}

// next returns the next request, failing the test when none comes within d.
func (r *receiver) next(t *testing.T, d time.Duration) delivery {
	t.Helper()
	select {
	case got := <-r.got:
		return got
	case <-time.After(d):
		t.Fatalf("no delivery within %s", d)
		return delivery{}
	}
}

// deliveries is every request so far, in arrival order.
func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.all)
}

// postItems posts {"items":[...]} to the orders webhook and returns the request id.
func postItems(t *testing.T, hg *instance, items ...string) string {
	t.Helper()
	resp := hg.post("orders", "application/json", []byte(`{"items":[`+strings.Join(items, ",")+`]}`))
	if resp.Status != http.StatusOK || resp.Body["tasks"] != float64(len(items)) {
		t.Fatalf("post: status %d body %s, want 200 with %d tasks", resp.Status, resp.Raw, len(items))
	}
	return resp.Header.Get("X-Request-Id")
}

func connectJS(t *testing.T, natsURL string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	// A generous timeout: the hookgate under test is a -race build
	// sharing the machine with other tests.
	nc, err := nats.Connect(natsURL, nats.Timeout(10*time.Second))
	if err != nil {
		t.Fatalf("connect %s: %v", natsURL, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		t.Fatal(err)
	}
	return nc, js
}

// waitSettled waits until every durable consumer of the tasks stream (one
// per route and outgoing) has nothing left to deliver and nothing
// unacknowledged: every task was delivered, filtered or dead-lettered.
func waitSettled(t *testing.T, natsURL string, within time.Duration) {
	t.Helper()
	nc, js := connectJS(t, natsURL)
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	state := "no consumer"
	for {
		if s, err := js.Stream(ctx, "HOOKGATE_TASKS"); err == nil {
			durables, busy := 0, []string{}
			list := s.ListConsumers(ctx)
			for info := range list.Info() {
				if info.Config.Durable == "" {
					continue
				}
				durables++
				if info.NumPending > 0 || info.NumAckPending > 0 {
					busy = append(busy, fmt.Sprintf("%s: %d pending, %d unacknowledged", info.Name, info.NumPending, info.NumAckPending))
				}
			}
			if list.Err() == nil && durables > 0 && len(busy) == 0 {
				return
			}
			if len(busy) > 0 {
				state = strings.Join(busy, "; ")
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("routes not settled within %s: %s", within, state)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// readStream waits until want messages are stored under subject in
// stream and returns them in order.
func readStream(t *testing.T, natsURL, stream, subject string, want int) []task {
	t.Helper()
	nc, js := connectJS(t, natsURL)
	defer nc.Close()
	var out []task
	for _, m := range natstest.Read(t, js, stream, subject, want) {
		out = append(out, task{Subject: m.Subject(), Header: m.Headers(), Data: m.Data()})
	}
	return out
}

// deadLetters waits until want messages are stored on subject in
// HOOKGATE_DLQ, checks that the stream holds no others, and returns them.
func deadLetters(t *testing.T, natsURL, subject string, want int) []task {
	t.Helper()
	out := readStream(t, natsURL, "HOOKGATE_DLQ", subject, want)
	if st := streamState(t, natsURL, "HOOKGATE_DLQ", "dlq.>"); st.Msgs != uint64(want) {
		t.Errorf("%d dead letters in HOOKGATE_DLQ, want %d (all on %s): %v", st.Msgs, want, subject, st.Subjects)
	}
	return out
}

// assertDeadLetter checks a dead letter against the task it came from.
func assertDeadLetter(t *testing.T, dl, orig task, want map[string]string) {
	t.Helper()
	if string(dl.Data) != string(orig.Data) {
		t.Errorf("dead letter body %q, want the task's unchanged %q", dl.Data, orig.Data)
	}
	for k, v := range want {
		if got := dl.Header.Get(k); got != v {
			t.Errorf("dead letter %s = %q, want %q", k, got, v)
		}
	}
	// The task's own headers are kept; Nats-Msg-Id is the router's
	// documented exception (it would de-duplicate a second dead letter).
	for k, v := range orig.Header {
		if k != nats.MsgIdHdr && !slices.Equal(dl.Header[k], v) {
			t.Errorf("dead letter header %s = %q, want the task's %q", k, dl.Header[k], v)
		}
	}
}

func TestRouterFilterAndTransformDeliverExactBodiesWithTheSpecHeaders(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, nil)
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": routerBase + `
outgoing:
  - name: erp
    url: ` + rcv.URL + `/orders
    headers: {X-Api-Version: "2"}
    allow_private_networks: true
    ` + fastRetry + `
routes:
  - name: released
    incoming: orders
    filter:
      - {path: status, equals: released}
    transform:
      - map: {orderId: id, customer: customer.name, lines: lines, notes: internal}
      - set: {source: erp, version: 2}
      - rename: {orderId: id}
      - remove: [notes]
    outgoing: [erp]
`}))
	id := postItems(t, hg,
		`{"id":1,"status":"released","customer":{"name":"Ann"},"lines":[{"sku":"A","qty":2}],"internal":"x"}`,
		`{"id":2,"status":"draft","customer":{"name":"Bob"},"lines":[],"internal":"y"}`,
		`{"id":3,"status":"released","customer":{"name":"Cy"},"lines":[{"sku":"B","qty":1}]}`,
	)
	waitSettled(t, hg.NATSURL, 15*time.Second)

	want := map[string]string{ // Idempotency-Key (the task's ce-id) → body
		id + "-orders-0": `{"customer":"Ann","lines":[{"sku":"A","qty":2}],"source":"erp","version":2,"id":1}`,
		id + "-orders-2": `{"customer":"Cy","lines":[{"sku":"B","qty":1}],"source":"erp","version":2,"id":3}`,
	}
	tasks := readStream(t, hg.NATSURL, "HOOKGATE_TASKS", "tasks.orders", 3)
	if len(tasks) != 3 || tasks[0].Header.Get("ce-id") != id+"-orders-0" || tasks[2].Header.Get("ce-id") != id+"-orders-2" {
		t.Fatalf("stored tasks do not carry the expected ce-ids: %v", tasks)
	}
	got := rcv.deliveries()
	if len(got) != len(want) {
		t.Fatalf("%d deliveries, want %d (the draft is filtered out): %v", len(got), len(want), got)
	}
	for _, d := range got {
		key := d.Header.Get("Idempotency-Key")
		body, ok := want[key]
		if !ok {
			t.Errorf("delivery with Idempotency-Key %q (body %s); want one of the released tasks' ce-ids", key, d.Body)
			continue
		}
		delete(want, key)
		if string(d.Body) != body {
			t.Errorf("task %s delivered as\n%s\nwant\n%s", key, d.Body, body)
		}
		for name, v := range map[string]string{"Content-Type": "application/json", "User-Agent": "hookgate/e2e", "X-Api-Version": "2"} {
			if d.Header.Get(name) != v {
				t.Errorf("task %s: %s = %q, want %q", key, name, d.Header.Get(name), v)
			}
		}
	}
}

func TestRouterRetriesServerErrorsWithTheSameIdempotencyKey(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, func(n int, _ delivery, w http.ResponseWriter) {
		w.WriteHeader([]int{503, 503, 200}[min(n, 2)])
	})
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": routerBase + `
outgoing:
  - {name: flaky, url: "` + rcv.URL + `", allow_private_networks: true, ` + fastRetry + `}
routes:
  - {name: all, incoming: orders, outgoing: [flaky]}
`}))
	id := postItems(t, hg, `{"n":1}`)
	waitSettled(t, hg.NATSURL, 15*time.Second)
	got := rcv.deliveries()
	if len(got) != 3 {
		t.Fatalf("%d attempts, want 3 (503, 503, then 200)", len(got))
	}
	for i, d := range got {
		if k := d.Header.Get("Idempotency-Key"); k != id+"-orders-0" {
			t.Errorf("attempt %d Idempotency-Key %q, want %q every time", i+1, k, id+"-orders-0")
		}
		if string(d.Body) != `{"n":1}` {
			t.Errorf("attempt %d body %q", i+1, d.Body)
		}
	}
	deadLetters(t, hg.NATSURL, "dlq.>", 0)
}

func TestRouterWaitsRetryAfterOn429(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, retryAfterOnce(http.StatusTooManyRequests, "2"))
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": routerBase + `
outgoing:
  - name: limited
    url: "` + rcv.URL + `"
    allow_private_networks: true
    retry: {max_attempts: 5, initial_interval: 100ms, max_interval: 10s}
routes:
  - {name: all, incoming: orders, outgoing: [limited]}
`}))
	postItems(t, hg, `{"n":1}`)
	first := rcv.next(t, 10*time.Second)
	second := rcv.next(t, 10*time.Second)
	gap := second.At.Sub(first.At)
	if gap < 2*time.Second {
		t.Errorf("second attempt %s after a 429 with Retry-After: 2, want at least 2s", gap)
	}
	t.Logf("second attempt %s after the 429", gap)
	waitSettled(t, hg.NATSURL, 10*time.Second)
}

func TestRouterDeadLettersAClientErrorAtOnce(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, func(_ int, _ delivery, w http.ResponseWriter) {
		w.WriteHeader(http.StatusBadRequest)
	})
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": routerBase + `
outgoing:
  - {name: strict-erp, url: "` + rcv.URL + `", allow_private_networks: true, ` + fastRetry + `}
routes:
  - name: to-erp
    incoming: orders
    transform: [{set: {changed: true}}]
    outgoing: [strict-erp]
`}))
	postItems(t, hg, `{"sku":"A-1", "qty":3}`)
	dl := deadLetters(t, hg.NATSURL, "dlq.to-erp.strict-erp", 1)[0]
	waitSettled(t, hg.NATSURL, 10*time.Second)
	if n := len(rcv.deliveries()); n != 1 {
		t.Errorf("%d attempts, want 1: a 400 is not retried", n)
	}
	orig := readStream(t, hg.NATSURL, "HOOKGATE_TASKS", "tasks.orders", 1)[0]
	assertDeadLetter(t, dl, orig, map[string]string{
		"hookgate-status":   "400",
		"hookgate-attempts": "1",
		"hookgate-route":    "to-erp",
		"hookgate-outgoing": "strict-erp",
	})
	if e := dl.Header.Get("hookgate-error"); !strings.Contains(e, "400") {
		t.Errorf("hookgate-error %q, want it to name the status 400", e)
	}
}

func TestRouterRetryPendingAcrossARestartIsDelivered(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, retryAfterOnce(http.StatusServiceUnavailable, "3"))
	dir := writeConfig(t, map[string]string{"hookgate.yaml": routerBase + `
outgoing:
  - name: erp
    url: "` + rcv.URL + `"
    allow_private_networks: true
    timeout: 2s
    retry: {max_attempts: 5, initial_interval: 100ms, max_interval: 5s}
routes:
  - {name: all, incoming: orders, outgoing: [erp]}
`})
	store := "TEST_STORE_DIR=" + t.TempDir()
	hg := start(t, dir, store)
	id := postItems(t, hg, `{"n":1}`)
	first := rcv.next(t, 10*time.Second)
	hg.stop() // SIGTERM while the retry waits out its Retry-After
	restarted := time.Now()
	if len(rcv.deliveries()) != 1 {
		t.Fatalf("the retry came before the restart; the test needs a longer Retry-After")
	}

	hg = start(t, dir, store)
	second := rcv.next(t, 30*time.Second)
	if second.At.Before(restarted) || second.Header.Get("Idempotency-Key") != id+"-orders-0" || string(second.Body) != `{"n":1}` {
		t.Errorf("after the restart got %s %q at %s (restart at %s), want the same task again",
			second.Header.Get("Idempotency-Key"), second.Body, second.At, restarted)
	}
	// JetStream keeps a pending task's redelivery time in whole seconds in
	// its store, so after a restart the retry may come up to ~1s before the
	// Retry-After has passed; only the delivery itself is asserted.
	t.Logf("retry after restart arrived %s after the first attempt (Retry-After: 3)", second.At.Sub(first.At))
	waitSettled(t, hg.NATSURL, 10*time.Second)
	if n := len(rcv.deliveries()); n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}
}

func TestRouterOAuth2TokenIsFetchedOnceAndAgainAfter401(t *testing.T) {
	t.Parallel()
	var fetched atomic.Int32
	var badTokenRequest atomic.Value
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := fetched.Add(1)
		user, pass, _ := r.BasicAuth()
		if r.ParseForm() != nil || r.PostForm.Get("grant_type") != "client_credentials" ||
			r.PostForm.Get("scope") != "orders.write" ||
			!(user == "hookgate" && pass == "s3cret" || r.PostForm.Get("client_id") == "hookgate" && r.PostForm.Get("client_secret") == "s3cret") {
			badTokenRequest.Store(fmt.Sprintf("%s %v", r.Header.Get("Authorization"), r.PostForm))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"Bearer","expires_in":3600}`, n)
	}))
	t.Cleanup(tokens.Close)
	rcv := newReceiver(t, func(n int, _ delivery, w http.ResponseWriter) {
		if n == 50 { // the first delivery after the 50: the token was revoked
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": routerBase + `
auth_profiles:
  - name: erp-oauth
    type: oauth2_client_credentials
    client_id: hookgate
    client_secret: s3cret
    scope: orders.write
    token_url: "` + tokens.URL + `/token"
    allowed_domains: [127.0.0.1]
outgoing:
  - {name: erp, url: "` + rcv.URL + `", auth: erp-oauth, allow_private_networks: true, ` + fastRetry + `}
routes:
  - {name: all, incoming: orders, outgoing: [erp]}
`}))
	items := make([]string, 50)
	for i := range items {
		items[i] = fmt.Sprintf(`{"n":%d}`, i)
	}
	postItems(t, hg, items...)
	waitSettled(t, hg.NATSURL, 20*time.Second)
	if v := badTokenRequest.Load(); v != nil {
		t.Fatalf("token request without the client credentials: %v", v)
	}
	got := rcv.deliveries()
	if len(got) != 50 || fetched.Load() != 1 {
		t.Fatalf("%d deliveries with %d token requests, want 50 with 1", len(got), fetched.Load())
	}
	for _, d := range got {
		if a := d.Header.Get("Authorization"); a != "Bearer tok-1" {
			t.Fatalf("Authorization %q, want Bearer tok-1", a)
		}
	}

	postItems(t, hg, `{"n":50}`)
	waitSettled(t, hg.NATSURL, 10*time.Second)
	got = rcv.deliveries()[50:]
	if fetched.Load() != 2 || len(got) != 2 {
		t.Fatalf("after a 401: %d token requests and %d more deliveries, want 2 and 2 (the 401, then the retry)", fetched.Load(), len(got))
	}
	if a, b := got[0].Header.Get("Authorization"), got[1].Header.Get("Authorization"); a != "Bearer tok-1" || b != "Bearer tok-2" {
		t.Errorf("Authorization %q then %q, want the old token then the new one", a, b)
	}
	deadLetters(t, hg.NATSURL, "dlq.>", 0)
}

func TestRouterBasicAuthXMLAndStandardWebhooksSignature(t *testing.T) {
	t.Parallel()
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	rcv := newReceiver(t, nil)
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": routerBase + `
auth_profiles:
  - {name: shop-basic, type: basic, username: hookgate, password: "p@ss word", allowed_domains: [127.0.0.1]}
outgoing:
  - name: shop
    url: "` + rcv.URL + `/in"
    format: xml
    root_element: Order
    auth: shop-basic
    signing: {preset: standard_webhooks, secret: ` + secret + `}
    allow_private_networks: true
    ` + fastRetry + `
routes:
  - {name: all, incoming: orders, outgoing: [shop]}
`}))
	id := postItems(t, hg, `{"-id":"SO-7","sku":"A&B","qty":2,"lines":[{"n":1},{"n":2}],"empty":null}`)
	d := rcv.next(t, 10*time.Second)
	waitSettled(t, hg.NATSURL, 10*time.Second)

	want := `<Order id="SO-7"><sku>A&amp;B</sku><qty>2</qty><lines><n>1</n></lines><lines><n>2</n></lines><empty/></Order>`
	if string(d.Body) != want {
		t.Errorf("body\n%s\nwant\n%s", d.Body, want)
	}
	if ct := d.Header.Get("Content-Type"); ct != "application/xml" {
		t.Errorf("Content-Type %q, want application/xml", ct)
	}
	req := &http.Request{Header: d.Header}
	if user, pass, ok := req.BasicAuth(); !ok || user != "hookgate" || pass != "p@ss word" {
		t.Errorf("basic auth %q %q %v, want the profile's credentials", user, pass, ok)
	}

	// Standard Webhooks (standardwebhooks.com): base64 HMAC-SHA256, keyed
	// with the base64-decoded part of whsec_…, over "msg_id.timestamp.body".
	msgID, ts := d.Header.Get("webhook-id"), d.Header.Get("webhook-timestamp")
	if msgID != id+"-orders-0" {
		t.Errorf("webhook-id %q, want the task's ce-id %q", msgID, id+"-orders-0")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > time.Minute {
		t.Errorf("webhook-timestamp %q is not the current unix time", ts)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msgID + "." + ts + "." + string(d.Body)))
	wantSig := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if sigs := strings.Fields(d.Header.Get("webhook-signature")); !slices.Contains(sigs, wantSig) {
		t.Errorf("webhook-signature %q does not contain %q", d.Header.Get("webhook-signature"), wantSig)
	}
}

func TestRouterOrderedKeepsOrderAcrossAFailure(t *testing.T) {
	t.Parallel()
	var failed atomic.Bool
	rcv := newReceiver(t, func(_ int, d delivery, w http.ResponseWriter) {
		if string(d.Body) == `{"n":3}` && failed.CompareAndSwap(false, true) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": routerBase + `
outgoing:
  - {name: ledger, url: "` + rcv.URL + `", ordered: true, allow_private_networks: true, ` + fastRetry + `}
routes:
  - {name: all, incoming: orders, outgoing: [ledger]}
`}))
	postItems(t, hg, `{"n":1}`, `{"n":2}`, `{"n":3}`)
	postItems(t, hg, `{"n":4}`, `{"n":5}`, `{"n":6}`)
	waitSettled(t, hg.NATSURL, 15*time.Second)
	var order []string
	for _, d := range rcv.deliveries() {
		order = append(order, string(d.Body))
	}
	want := []string{`{"n":1}`, `{"n":2}`, `{"n":3}`, `{"n":3}`, `{"n":4}`, `{"n":5}`, `{"n":6}`}
	if !slices.Equal(order, want) {
		t.Errorf("arrival order %v, want %v (3 retried before 4)", order, want)
	}
}

func TestRouterTwoProcessesOnOneNATSDeliverEveryTask(t *testing.T) {
	t.Parallel()
	const n = 100
	rcv := newReceiver(t, func(int, delivery, http.ResponseWriter) {
		time.Sleep(10 * time.Millisecond) // long enough that both processes get work
	})
	dir := writeConfig(t, map[string]string{"hookgate.yaml": routerBase + `
outgoing:
  - {name: erp, url: "` + rcv.URL + `", allow_private_networks: true, concurrency: 4, ` + fastRetry + `}
routes:
  - {name: all, incoming: orders, outgoing: [erp]}
`})
	first := start(t, dir)
	second := start(t, dir, "TEST_NATS_URL="+first.NATSURL)
	want := map[string]bool{}
	for i, hg := range []*instance{first, second} {
		items := make([]string, n/2)
		for j := range items {
			items[j] = fmt.Sprintf(`{"n":%d}`, i*n/2+j)
		}
		id := postItems(t, hg, items...)
		for j := range items {
			want[fmt.Sprintf("%s-orders-%d", id, j)] = true
		}
	}
	waitSettled(t, first.NATSURL, 30*time.Second)
	seen := map[string]int{}
	for _, d := range rcv.deliveries() {
		seen[d.Header.Get("Idempotency-Key")]++
	}
	for k := range want {
		if seen[k] == 0 {
			t.Errorf("task %s was never delivered", k)
		}
	}
	for k, c := range seen {
		if !want[k] || c != 1 {
			t.Errorf("task %s delivered %d times, want once (no failure happened)", k, c)
		}
	}
	// A task is acked before its log line reaches our pipe: wait for the lines.
	var a, b int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		a = strings.Count(first.log.String(), `"msg":"delivered"`)
		b = strings.Count(second.log.String(), `"msg":"delivered"`)
		if a+b >= n || time.Now().After(deadline) {
			break
		}
	}
	t.Logf("deliveries: first process %d, second %d", a, b)
	if a+b != n || a == 0 || b == 0 {
		t.Errorf("processes delivered %d and %d tasks, want both a share of %d", a, b, n)
	}
}

func TestRouterValidateRefusesUnsafeOutgoing(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, yaml, wantField, wantText string
	}{
		{
			name: "auth profile outside its allowed_domains",
			yaml: `
auth_profiles:
  - {name: erp-basic, type: basic, username: u, password: p, allowed_domains: [erp.example.com]}
outgoing:
  - name: erp
    auth: erp-basic
    url: https://other.example.com/orders
`,
			wantField: "outgoing[0].url",
			wantText:  `host other.example.com is outside the allowed_domains of auth profile "erp-basic"`,
		},
		{
			name: "loopback URL without allow_private_networks",
			yaml: `
outgoing:
  - name: erp
    url: http://127.0.0.1:9/orders
`,
			wantField: "outgoing[0].url",
			wantText:  "allow_private_networks",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text := routerBase + tc.yaml + "routes:\n  - {name: all, incoming: orders, outgoing: [erp]}\n"
			line := 0
			for i, l := range strings.Split(text, "\n") {
				if strings.HasPrefix(strings.TrimSpace(l), "url:") {
					line = i + 1
				}
			}
			dir := writeConfig(t, map[string]string{"hookgate.yaml": text})
			cmd := exec.Command(binary, "validate", "-c", dir)
			out, _ := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != 1 {
				t.Fatalf("exit %d, want 1; output:\n%s", code, out)
			}
			prefix := fmt.Sprintf("%s:%d: %s: ", filepath.Join(dir, "hookgate.yaml"), line, tc.wantField)
			for _, l := range strings.Split(string(out), "\n") {
				if strings.HasPrefix(l, prefix) && strings.Contains(l, tc.wantText) {
					return
				}
			}
			t.Errorf("validate printed\n%s\nwant a line starting %q containing %q", out, prefix, tc.wantText)
		})
	}
}

func TestRouterRefusesAHostNameThatResolvesToAPrivateAddress(t *testing.T) {
	t.Parallel()
	host, err := os.Hostname()
	if err != nil {
		t.Skipf("no host name: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 || slices.ContainsFunc(addrs, func(a netip.Addr) bool { return !configs.RefusedAddr(a) }) {
		t.Skipf("host name %q resolves to %v (%v), not only to private addresses: no name the config cannot see through", host, addrs, err)
	}
	rcv := newReceiver(t, nil)
	_, port, _ := net.SplitHostPort(rcv.Listener.Addr().String())
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": routerBase + `
outgoing:
  - {name: internal, url: "http://` + net.JoinHostPort(host, port) + `/hook", ` + fastRetry + `}
routes:
  - {name: all, incoming: orders, outgoing: [internal]}
`}))
	postItems(t, hg, `{"n":1}`)
	dl := deadLetters(t, hg.NATSURL, "dlq.all.internal", 1)[0]
	waitSettled(t, hg.NATSURL, 10*time.Second)
	assertDeadLetter(t, dl, readStream(t, hg.NATSURL, "HOOKGATE_TASKS", "tasks.orders", 1)[0], map[string]string{
		"hookgate-error":    "destination address not allowed",
		"hookgate-status":   "0",
		"hookgate-attempts": "1",
		"hookgate-route":    "all",
		"hookgate-outgoing": "internal",
	})
	if n := len(rcv.deliveries()); n != 0 {
		t.Errorf("the receiver on %s (%v) got %d requests, want none", host, addrs, n)
	}
}
