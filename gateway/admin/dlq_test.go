package admin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// deadLetterList is GET /api/v1/dlq's answer, decoded.
type deadLetterList struct {
	DeadLetters []struct {
		Seq           uint64
		Subject       string
		TaskID        string `json:"task_id"`
		Time          string
		Headers       map[string]string
		Body          string
		BodyTruncated bool `json:"body_truncated"`
	} `json:"dead_letters"`
}

// counter is an outgoing system that counts requests per Idempotency-Key
// and answers status.
type counter struct {
	*httptest.Server
	status atomic.Int32
	mu     sync.Mutex
	seen   map[string]int
}

func newCounter(t *testing.T, status int) *counter {
	c := &counter{seen: map[string]int{}}
	c.status.Store(int32(status))
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.seen[r.Header.Get("Idempotency-Key")]++
		c.mu.Unlock()
		w.WriteHeader(int(c.status.Load()))
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *counter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.seen {
		n += v
	}
	return n
}

func (c *counter) times(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[key]
}

func TestDeadLettersAreListedNewestFirstAndReplayedToTheirPairOnly(t *testing.T) {
	strict, sibling, audit := newCounter(t, http.StatusBadRequest), newCounter(t, http.StatusOK), newCounter(t, http.StatusOK)
	s := startStack(t, `
admin: {listen: "127.0.0.1:0", token: t0ken-for-tests}
webhooks:
  - {name: Orders, incoming: orders}
incoming:
  - {name: orders, parser: json, pattern_to_items: items}
outgoing:
  - {name: strict, url: "`+strict.URL+`", allow_private_networks: true, ordered: true}
  - {name: sibling, url: "`+sibling.URL+`", allow_private_networks: true}
  - {name: audit, url: "`+audit.URL+`", allow_private_networks: true}
routes:
  - {name: to-erp, incoming: orders, outgoing: [strict, sibling]}
  - {name: audit, incoming: orders, outgoing: [audit]}
  - {name: off, incoming: orders, outgoing: [audit], disabled: true}
`)
	big := strings.Repeat("é", 40<<10) // 80KiB of two-byte runes
	r := s.post("orders", `{"items":[{"n":0},{"n":1},{"big":"`+big+`"}]}`)
	if r.Status != http.StatusOK {
		t.Fatalf("post: %d %s", r.Status, r.Body)
	}
	id := r.Header.Get("X-Request-Id")
	list := func(query string) deadLetterList {
		t.Helper()
		res := s.api("GET", "/api/v1/dlq?"+query)
		if res.Status != http.StatusOK {
			t.Fatalf("GET /api/v1/dlq?%s: %d %s", query, res.Status, res.Body)
		}
		var l deadLetterList
		res.json(t, &l)
		return l
	}
	eventually(t, "three dead letters", func() bool { return len(list("route=to-erp").DeadLetters) == 3 })
	eventually(t, "the sibling and audit deliveries", func() bool { return sibling.total() == 3 && audit.total() == 3 })

	got := list("route=to-erp").DeadLetters
	for i, want := range []string{id + "-orders-2", id + "-orders-1", id + "-orders-0"} {
		dl := got[i]
		if dl.TaskID != want || dl.Subject != "dlq.to-erp.strict" {
			t.Errorf("dead letter %d: task %q on %q, want %q on dlq.to-erp.strict (newest first)", i, dl.TaskID, dl.Subject, want)
		}
		for k, v := range map[string]string{"hookgate-status": "400", "hookgate-attempts": "1", "hookgate-route": "to-erp", "hookgate-outgoing": "strict"} {
			if dl.Headers[k] != v {
				t.Errorf("dead letter %d: %s = %q, want %q", i, k, dl.Headers[k], v)
			}
		}
		if dl.Time == "" || dl.Seq == 0 {
			t.Errorf("dead letter %d has no time or seq: %+v", i, dl)
		}
	}
	if got[1].Body != `{"n":1}` || got[1].BodyTruncated {
		t.Errorf("body %.100q (truncated %v), want the task's {\"n\":1}", got[1].Body, got[1].BodyTruncated)
	}
	if !got[0].BodyTruncated || len(got[0].Body) != 64<<10 || !strings.HasPrefix(got[0].Body, `{"big":"éé`) {
		t.Errorf("an 80KiB body: %d bytes shown, truncated %v; want 64KiB of whole runes", len(got[0].Body), got[0].BodyTruncated)
	}
	if l := list("route=to-erp&limit=1").DeadLetters; len(l) != 1 || l[0].TaskID != id+"-orders-2" {
		t.Errorf("limit=1: %+v, want the newest only", l)
	}
	if l := list("route=audit").DeadLetters; len(l) != 0 {
		t.Errorf("route=audit lists %d dead letters, want none", len(l))
	}

	for _, tc := range []struct {
		method, path string
		status       int
		says         string
	}{
		{"GET", "/api/v1/dlq", 400, "route is required"},
		{"GET", "/api/v1/dlq?route=to-erp&limit=0", 400, "limit"},
		{"GET", "/api/v1/dlq?route=to-erp&limit=x", 400, "limit"},
		{"POST", "/api/v1/dlq", 405, "use GET"},
		{"GET", "/api/v1/dlq/to-erp/replay", 405, "use POST"},
		{"POST", "/api/v1/dlq/nowhere/replay", 404, "is not configured"},
		{"POST", "/api/v1/dlq/to-erp/replay?outgoing=audit", 404, "has no outgoing"},
		{"POST", "/api/v1/dlq/off/replay", 409, "is disabled"},
	} {
		if res := s.api(tc.method, tc.path); res.Status != tc.status || !strings.Contains(res.Body, tc.says) {
			t.Errorf("%s %s: %d %s, want %d saying %q", tc.method, tc.path, res.Status, res.Body, tc.status, tc.says)
		}
	}
	if res := do(t, "GET", s.admin.URL+"/api/v1/dlq?route=to-erp", ""); res.Status != http.StatusUnauthorized {
		t.Errorf("without a token: %d", res.Status)
	}

	strict.status.Store(http.StatusOK)
	res := s.api("POST", "/api/v1/dlq/to-erp/replay?outgoing=strict")
	if res.Status != http.StatusOK || strings.TrimSpace(res.Body) != `{"replayed":3}` {
		t.Fatalf("replay: %d %s, want 200 {\"replayed\":3}", res.Status, res.Body)
	}
	eventually(t, "the replayed tasks delivered", func() bool { return strict.total() == 6 })
	if l := list("route=to-erp").DeadLetters; len(l) != 0 {
		t.Errorf("%d dead letters left after the replay", len(l))
	}
	if res := s.api("POST", "/api/v1/dlq/to-erp/replay"); strings.TrimSpace(res.Body) != `{"replayed":0}` {
		t.Errorf("a second replay: %d %s, want nothing left to replay", res.Status, res.Body)
	}
	for i := range 3 {
		key := id + "-orders-" + string(rune('0'+i))
		if n := strict.times(key); n != 2 {
			t.Errorf("strict got %s %d times, want 2 (the 400, then the replay)", key, n)
		}
		if n := sibling.times(key) + audit.times(key); n != 2 {
			t.Errorf("sibling and audit got %s %d times together, want once each: a replay reaches its pair only", key, n)
		}
	}
}
