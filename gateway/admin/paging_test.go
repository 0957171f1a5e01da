package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hookgate/hookgate/gateway/bus"
)

// listing is one page of a newest-first listing, decoded: the entries under
// their name, as raw JSON, and the cursor of the older ones.
type listing struct {
	entries    []json.RawMessage
	nextBefore uint64
	hasNext    bool
}

func decodeListing(t *testing.T, name, raw string) listing {
	t.Helper()
	var body map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &body); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, raw)
	}
	var l listing
	if err := json.Unmarshal(body[name], &l.entries); err != nil || l.entries == nil {
		t.Fatalf("no %q list in %s", name, raw)
	}
	if next, ok := body["next_before"]; ok {
		l.hasNext = true
		if err := json.Unmarshal(next, &l.nextBefore); err != nil || l.nextBefore == 0 {
			t.Fatalf("next_before %s is not a sequence number", next)
		}
	}
	return l
}

// pageThrough follows next_before from the newest page to the last one and
// returns the field of every entry, in the order the pages gave them.
func pageThrough(t *testing.T, get func(path string) (int, string), path, name, field string) (got []string, pages int) {
	t.Helper()
	u, err := url.Parse(path)
	if err != nil {
		t.Fatal(err)
	}
	for pages = 1; pages < 50; pages++ {
		status, raw := get(u.String())
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", u, status, raw)
		}
		l := decodeListing(t, name, raw)
		for _, e := range l.entries {
			var m map[string]any
			_ = json.Unmarshal(e, &m)
			got = append(got, fmt.Sprint(m[field]))
		}
		if !l.hasNext {
			return got, pages
		}
		q := u.Query() // the next page replaces any before the path started with
		q.Set("before", fmt.Sprint(l.nextBefore))
		u.RawQuery = q.Encode()
	}
	t.Fatalf("GET %s: more than 50 pages", path)
	return nil, 0
}

func TestOlderPagesOfTheRequestAndDeliveryLogsFollowOnWithoutGapOrRepeat(t *testing.T) {
	t.Parallel()
	s := startLogStack(t)
	// Other subjects in between, so that pages end inside the windows
	// newestFirst reads and filters skip entries.
	for i := range 250 {
		s.publish(t, "log.requests.w", bus.RequestLogEntry{RequestID: fmt.Sprintf("r%03d", i), Webhook: "w"})
		s.publish(t, "log.requests.other", bus.RequestLogEntry{RequestID: "other", Webhook: "other"})
		e := bus.AttemptLogEntry{TaskID: fmt.Sprintf("t%03d", i), Route: "a", Outgoing: "x", Status: 200, Attempt: 1}
		if i%3 == 0 {
			e.Status, e.Error = 503, "unexpected status 503"
		}
		s.publish(t, bus.AttemptLogSubject(e.Route, e.Outgoing), e)
	}
	get := func(path string) (int, string) { return s.call(t, "GET", path) }
	descending := func(prefix string, n, step int, keep func(int) bool) string {
		var want []string
		for i := n - 1; i >= 0; i -= step {
			if keep(i) {
				want = append(want, fmt.Sprintf("%s%03d", prefix, i))
			}
		}
		return strings.Join(want, " ")
	}
	all := func(int) bool { return true }
	for _, tc := range []struct {
		name, path, list, field string
		want                    string
		pages                   int
	}{
		{"requests by hundreds", "/api/v1/webhooks/w/requests?limit=100", "requests", "request_id",
			descending("r", 250, 1, all), 3},
		{"requests one by one at the end", "/api/v1/webhooks/w/requests?limit=1&before=8", "requests", "request_id",
			"r002 r001 r000", 3},
		{"failed deliveries by tens", "/api/v1/deliveries?status=failed&limit=10", "deliveries", "task_id",
			descending("t", 250, 1, func(i int) bool { return i%3 == 0 }), 9},
		{"delivered attempts of one route", "/api/v1/deliveries?route=a&status=delivered&limit=100", "deliveries", "task_id",
			descending("t", 250, 1, func(i int) bool { return i%3 != 0 }), 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, pages := pageThrough(t, get, tc.path, tc.list, tc.field)
			if strings.Join(got, " ") != tc.want {
				t.Errorf("paged entries:\n%s\nwant, newest first, each once:\n%s", strings.Join(got, " "), tc.want)
			}
			if pages != tc.pages {
				t.Errorf("%d pages, want %d", pages, tc.pages)
			}
		})
	}

	// Entries written after the first page do not shift the next one.
	status, raw := get("/api/v1/webhooks/w/requests?limit=10")
	first := decodeListing(t, "requests", raw)
	if status != http.StatusOK || !first.hasNext {
		t.Fatalf("first page: %d %s", status, raw)
	}
	s.publish(t, "log.requests.w", bus.RequestLogEntry{RequestID: "newer", Webhook: "w"})
	_, raw = get(fmt.Sprintf("/api/v1/webhooks/w/requests?limit=1&before=%d", first.nextBefore))
	var second struct{ Requests []bus.RequestLogEntry }
	_ = json.Unmarshal([]byte(raw), &second)
	if len(second.Requests) != 1 || second.Requests[0].RequestID != "r239" {
		t.Errorf("the page after r240 with a newer entry written meanwhile: %s, want r239", raw)
	}
}

func TestPagingParametersAreCheckedWithAClearAnswer(t *testing.T) {
	t.Parallel()
	s := startLogStack(t)
	s.publish(t, "log.requests.w", bus.RequestLogEntry{RequestID: "r0", Webhook: "w"})
	wrongBefore := "before: use the next_before of an earlier answer (a whole number from 1), or leave it out for the newest entries"
	for _, tc := range []struct {
		name, path string
		status     int
		says       string
	}{
		{"before is not a number", "/api/v1/webhooks/w/requests?before=abc", 400, wrongBefore},
		{"before is zero", "/api/v1/webhooks/w/requests?before=0", 400, wrongBefore},
		{"before is negative", "/api/v1/deliveries?before=-5", 400, wrongBefore},
		{"before is past int64", "/api/v1/deliveries?before=9223372036854775808", 400, wrongBefore},
		{"before is a float", "/api/v1/dlq?route=a&before=1.5", 400, wrongBefore},
		{"limit past its bound with a cursor", "/api/v1/deliveries?before=5&limit=1001", 400, "limit: use a whole number from 1 to 1000"},
		{"limit zero on the dead letters", "/api/v1/dlq?route=a&limit=0", 400, "limit: use a whole number from 1 to 1000"},
		{"before the first entry is an empty last page", "/api/v1/webhooks/w/requests?before=1", 200, `{"requests":[]}`},
		{"before past the newest is the newest page", "/api/v1/webhooks/w/requests?before=9223372036854775807", 200, `"request_id":"r0"`},
		{"an empty before is the newest page", "/api/v1/webhooks/w/requests?before=", 200, `"request_id":"r0"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, raw := s.call(t, "GET", tc.path)
			if status != tc.status || !strings.Contains(raw, tc.says) {
				t.Errorf("GET %s: %d %s, want %d with %q", tc.path, status, raw, tc.status, tc.says)
			}
			if status == 200 && strings.Contains(raw, "next_before") {
				t.Errorf("GET %s: %s names a next page of an exhausted log", tc.path, raw)
			}
		})
	}
	req, _ := http.NewRequest("GET", "/api/v1/webhooks/w/requests?before=2", nil)
	if code := serve(s.admin, req); code != http.StatusUnauthorized {
		t.Errorf("a page without the token: %d, want 401", code)
	}
}

// serve answers req with h and returns the status.
func serve(h http.Handler, req *http.Request) int {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func TestOlderPagesOfDeadLetters(t *testing.T) {
	t.Parallel()
	s := startLogStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// What a router of any process stores: the route's dead letters, among
	// those of another route whose name maps to the same subject.
	for i := range 30 {
		for _, route := range []string{"a.b", "a_b"} {
			m := nats.NewMsg(bus.DLQSubject(route, "x"))
			m.Header.Set(bus.HeaderRoute, route)
			m.Header.Set(bus.HeaderOutgoing, "x")
			m.Header.Set(bus.HeaderCEID, fmt.Sprintf("%s-%02d", route, i))
			m.Data = []byte(`{}`)
			if _, err := s.js.PublishMsg(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, pages := pageThrough(t, func(path string) (int, string) { return s.call(t, "GET", path) },
		"/api/v1/dlq?route=a.b&limit=7", "dead_letters", "task_id")
	var want []string
	for i := 29; i >= 0; i-- {
		want = append(want, fmt.Sprintf("a.b-%02d", i))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") || pages != 5 {
		t.Errorf("%d pages of dead letters:\n%s\nwant 5:\n%s", pages, strings.Join(got, " "), strings.Join(want, " "))
	}
}
