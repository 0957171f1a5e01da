package router

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
)

func TestFilterAndTransformThroughNATS(t *testing.T) {
	js := startJS(t)
	rc := newReceiver(t, nil)
	rt := configs.Route{
		Filter: []configs.Condition{{Path: "status", Equals: ptr("released")}},
		Transform: []configs.Transform{
			{Map: []configs.KeyValue{{Key: "orderId", Value: "-id"}, {Key: "lines", Value: "Lines.Line"}}},
			{Set: []configs.KeyJSON{{Key: "source", JSON: []byte(`"erp"`)}}},
			{Rename: []configs.KeyValue{{Key: "orderId", Value: "id"}}},
		},
	}
	startRouter(t, testConfig(rt, testOutgoing("erp", rc.URL)), js)
	publishTask(t, js, "tasks.orders", "req1-orders-0", `{"-id":"1","status":"draft","Lines":{"Line":[]}}`)
	publishTask(t, js, "tasks.orders", "req1-orders-1", `{"-id":"2","status":"released","Lines":{"Line":[{"sku":"A"}]}}`)
	publishTask(t, js, "tasks.orders", "req1-orders-2", `{"-id":"3","status":"cancelled"}`)

	got := rc.wait(t, 1)
	settled(t, js, "r", "erp")
	if n := rc.count(); n != 1 {
		t.Fatalf("receiver got %d requests, want 1 (two tasks fail the filter)", n)
	}
	if want := `{"lines":[{"sku":"A"}],"source":"erp","id":"2"}`; got[0].body != want {
		t.Errorf("body %s, want %s", got[0].body, want)
	}
	h := got[0].header
	for name, want := range map[string]string{
		"Content-Type": "application/json", "User-Agent": "hookgate/test", "Idempotency-Key": "req1-orders-1",
	} {
		if h.Get(name) != want {
			t.Errorf("%s = %q, want %q", name, h.Get(name), want)
		}
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int // answers in order; 200 after the list
		attempts int   // requests expected
	}{
		{"503, 503, 200 is delivered on the third attempt", []int{503, 503}, 3},
		{"408 is retried", []int{408}, 2},
		{"500 and 502 are retried", []int{500, 502}, 3},
		{"429 without Retry-After is retried", []int{429}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js := startJS(t)
			rc := newReceiver(t, func(n int, _ arrival, w http.ResponseWriter) {
				if n < len(tt.statuses) {
					w.WriteHeader(tt.statuses[n])
				}
			})
			startRouter(t, testConfig(configs.Route{}, testOutgoing("erp", rc.URL)), js)
			publishTask(t, js, "tasks.orders", "req-orders-0", `{"a":1}`)
			got := rc.wait(t, tt.attempts)
			settled(t, js, "r", "erp")
			if n := rc.count(); n != tt.attempts {
				t.Errorf("%d requests, want %d", n, tt.attempts)
			}
			for i, a := range got {
				if k := a.header.Get("Idempotency-Key"); k != "req-orders-0" {
					t.Errorf("attempt %d: Idempotency-Key %q, want the task's ce-id", i+1, k)
				}
				if a.body != `{"a":1}` {
					t.Errorf("attempt %d: body %s", i+1, a.body)
				}
			}
		})
	}
}

func TestRetryAfterSetsTheNextDelay(t *testing.T) {
	js := startJS(t)
	rc := newReceiver(t, retryAfterOnce(http.StatusTooManyRequests, "2"))
	out := testOutgoing("erp", rc.URL)
	out.Retry.MaxInterval = 5 * time.Second
	startRouter(t, testConfig(configs.Route{}, out), js)
	publishTask(t, js, "tasks.orders", "req-orders-0", `{}`)
	got := rc.wait(t, 2)
	if gap := got[1].at.Sub(got[0].at); gap < 2*time.Second {
		t.Errorf("second attempt %v after a 429 with Retry-After: 2; want at least 2s", gap)
	}
}

func TestRetryAfterNeverAboveMaxInterval(t *testing.T) {
	js := startJS(t)
	rc := newReceiver(t, retryAfterOnce(http.StatusServiceUnavailable, "3600"))
	startRouter(t, testConfig(configs.Route{}, testOutgoing("erp", rc.URL)), js) // max_interval 200ms
	publishTask(t, js, "tasks.orders", "req-orders-0", `{}`)
	rc.wait(t, 2) // fails (20s) if the hour were honoured
}

func TestDeadLetters(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		attempts string
		err      string
	}{
		{"400 is not retried", 400, "1", "unexpected status 400 Bad Request"},
		{"422 is not retried", 422, "1", "unexpected status 422 Unprocessable Entity"},
		{"503 after max_attempts", 503, "5", "unexpected status 503 Service Unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js := startJS(t)
			rc := newReceiver(t, func(_ int, _ arrival, w http.ResponseWriter) { w.WriteHeader(tt.status) })
			startRouter(t, testConfig(configs.Route{Name: "orders-to-erp"}, testOutgoing("erp", rc.URL)), js)
			publishTask(t, js, "tasks.orders", "req-orders-0", `{"a":1}`)

			m := nextDeadLetter(t, js, "dlq.orders-to-erp.erp")
			settled(t, js, "orders-to-erp", "erp")
			if n := strconv.Itoa(rc.count()); n != tt.attempts {
				t.Errorf("%s requests, want %s", n, tt.attempts)
			}
			if string(m.Data()) != `{"a":1}` {
				t.Errorf("dead letter body %s, want the task body unchanged", m.Data())
			}
			want := map[string]string{
				"ce-specversion": "1.0", "ce-id": "req-orders-0", "ce-type": "hookgate.orders", "ce-source": "/webhooks/orders",
				"ce-incoming": "orders", "content-type": "application/json",
				"hookgate-error":    tt.err,
				"hookgate-status":   strconv.Itoa(tt.status),
				"hookgate-attempts": tt.attempts,
				"hookgate-route":    "orders-to-erp",
				"hookgate-outgoing": "erp",
				"hookgate-msg-id":   "orders/orders/req-orders-0",
			}
			h := m.Headers()
			for k, v := range want {
				if got := h.Values(k); !slices.Equal(got, []string{v}) {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			for k := range h {
				if _, ok := want[k]; !ok && k != "Nats-Msg-Id" {
					t.Errorf("unexpected header %s: %q", k, h.Values(k))
				}
			}
		})
	}
}

// A task replayed from the dead letters carries Nats-Expected-Stream (the
// replay's precondition, stored with it); failing again, it must still
// become a dead letter rather than be retried forever.
func TestAReplayedTaskIsDeadLetteredAgain(t *testing.T) {
	js := startJS(t)
	rc := newReceiver(t, func(_ int, _ arrival, w http.ResponseWriter) { w.WriteHeader(http.StatusBadRequest) })
	startRouter(t, testConfig(configs.Route{Name: "orders-to-erp"}, testOutgoing("erp", rc.URL)), js)
	m := nats.NewMsg("tasks.orders")
	m.Data = []byte(`{"a":1}`)
	m.Header.Set("ce-id", "req-replayed-0")
	m.Header.Set(nats.MsgIdHdr, "replay/HOOKGATE_DLQ/7/orders/orders/req-replayed-0")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := js.PublishMsg(ctx, m, jetstream.WithExpectStream(testStream)); err != nil {
		t.Fatal(err)
	}
	dl := nextDeadLetter(t, js, "dlq.orders-to-erp.erp")
	settled(t, js, "orders-to-erp", "erp")
	if got := dl.Headers().Get("Nats-Expected-Stream"); got != "" {
		t.Errorf("the dead letter carries Nats-Expected-Stream %q", got)
	}
	if got := dl.Headers().Get(bus.HeaderOrigMsgID); got != "replay/HOOKGATE_DLQ/7/orders/orders/req-replayed-0" {
		t.Errorf("hookgate-msg-id = %q, want the replayed task's id", got)
	}
	if n := rc.count(); n != 1 {
		t.Errorf("%d attempts, want 1 (a 400 is not retried)", n)
	}
}

func TestRestartDuringBackoffStillDelivers(t *testing.T) {
	js := startJS(t)
	rc := newReceiver(t, func(n int, _ arrival, w http.ResponseWriter) {
		if n == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	out := testOutgoing("erp", rc.URL)
	out.Retry.InitialInterval, out.Retry.MaxInterval = time.Second, time.Second
	cfg := testConfig(configs.Route{}, out)

	first := startRouter(t, cfg, js)
	publishTask(t, js, "tasks.orders", "req-orders-0", `{"a":1}`)
	rc.wait(t, 1)
	stopRouter(t, first) // the retry now waits in JetStream, not in this Router
	if n := rc.count(); n != 1 {
		t.Fatalf("%d requests before the restart, want 1", n)
	}
	startRouter(t, cfg, js)
	got := rc.wait(t, 2)
	settled(t, js, "r", "erp")
	if got[1].header.Get("Idempotency-Key") != "req-orders-0" {
		t.Errorf("redelivery carried Idempotency-Key %q", got[1].header.Get("Idempotency-Key"))
	}
}

func TestOrderedKeepsOrderAcrossAFailure(t *testing.T) {
	js := startJS(t)
	var failed atomic.Bool
	rc := newReceiver(t, func(_ int, a arrival, w http.ResponseWriter) {
		if a.body == `{"n":2}` && failed.CompareAndSwap(false, true) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	out := testOutgoing("erp", rc.URL)
	out.Ordered = true
	startRouter(t, testConfig(configs.Route{}, out), js)
	for i := 1; i <= 6; i++ {
		publishTask(t, js, "tasks.orders", fmt.Sprintf("req-orders-%d", i), fmt.Sprintf(`{"n":%d}`, i))
	}
	got := rc.wait(t, 7)
	settled(t, js, "r", "erp")
	var order []string
	for _, a := range got {
		order = append(order, a.body[5:6])
	}
	if want := []string{"1", "2", "2", "3", "4", "5", "6"}; !slices.Equal(order, want) {
		t.Errorf("arrival order %v, want %v", order, want)
	}
}

func TestTwoRoutersDeliverEveryTask(t *testing.T) {
	const n = 300
	js := startJS(t)
	rc := newReceiver(t, nil)
	out := testOutgoing("erp", rc.URL)
	out.Concurrency = 8
	cfg := testConfig(configs.Route{}, out)
	startRouter(t, cfg, js)
	startRouter(t, cfg, js)
	for i := range n {
		publishTask(t, js, "tasks.orders", fmt.Sprintf("req-orders-%d", i), fmt.Sprintf(`{"n":%d}`, i))
	}
	got := rc.wait(t, n)
	settled(t, js, "r", "erp")
	if c := rc.count(); c != n {
		t.Errorf("%d requests for %d tasks; with no failure each is delivered once", c, n)
	}
	seen := map[string]bool{}
	for _, a := range got {
		seen[a.header.Get("Idempotency-Key")] = true
	}
	for i := range n {
		if id := fmt.Sprintf("req-orders-%d", i); !seen[id] {
			t.Errorf("task %s never delivered", id)
		}
	}
}

func TestSSRFGuardSendsToDeadLettersAtOnce(t *testing.T) {
	js := startJS(t)
	rc := newReceiver(t, nil)
	out := testOutgoing("erp", rc.URL) // 127.0.0.1
	out.AllowPrivateNetworks = false
	startRouter(t, testConfig(configs.Route{}, out), js)
	publishTask(t, js, "tasks.orders", "req-orders-0", `{}`)

	m := nextDeadLetter(t, js, "dlq.r.erp")
	h := m.Headers()
	for k, v := range map[string]string{"hookgate-error": "destination address not allowed", "hookgate-status": "0", "hookgate-attempts": "1"} {
		if h.Get(k) != v {
			t.Errorf("%s = %q, want %q", k, h.Get(k), v)
		}
	}
	if n := rc.count(); n != 0 {
		t.Errorf("the receiver on 127.0.0.1 got %d requests", n)
	}
}

func TestNetworkErrorsAndTimeoutsAreRetried(t *testing.T) {
	t.Run("a timeout is retried", func(t *testing.T) {
		js := startJS(t)
		rc := newReceiver(t, func(n int, _ arrival, w http.ResponseWriter) {
			if n == 0 {
				time.Sleep(500 * time.Millisecond) // a slow destination: past the timeout below
			}
		})
		out := testOutgoing("erp", rc.URL)
		out.Timeout = 200 * time.Millisecond
		startRouter(t, testConfig(configs.Route{}, out), js)
		publishTask(t, js, "tasks.orders", "req-orders-0", `{}`)
		rc.wait(t, 2)
		settled(t, js, "r", "erp")
	})
	t.Run("a refused connection is retried, then dead-lettered with status 0", func(t *testing.T) {
		js := startJS(t)
		closed := newReceiver(t, nil)
		closed.Close() // nothing listens on its port any more
		out := testOutgoing("erp", closed.URL)
		out.Retry.MaxAttempts = 3
		startRouter(t, testConfig(configs.Route{}, out), js)
		publishTask(t, js, "tasks.orders", "req-orders-0", `{}`)
		h := nextDeadLetter(t, js, "dlq.r.erp").Headers()
		if h.Get("hookgate-status") != "0" || h.Get("hookgate-attempts") != "3" {
			t.Errorf("status %q, attempts %q; want 0 and 3", h.Get("hookgate-status"), h.Get("hookgate-attempts"))
		}
		if e := h.Get("hookgate-error"); !strings.Contains(e, "connection refused") || strings.Contains(e, "http://") {
			t.Errorf("hookgate-error %q; want the cause without the URL", e)
		}
	})
}
