package test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// hostileConfig is baseConfig with the given server keys added and the
// admin listener on (its /metrics shows what is in flight), then the rest.
func hostileConfig(serverKeys, rest string) string {
	return `
server: {listen: "127.0.0.1:0", shutdown_timeout: 10s` + serverKeys + `}
admin: {listen: "127.0.0.1:0", token: t0ken}
log: {level: debug, format: json}
nats:
  url: ${TEST_NATS_URL:-}
  embedded: {listen: "127.0.0.1:0", store_dir: "${TEST_STORE_DIR:-data/nats}"}
  stream: {duplicates: 1m}
  publish_timeout: 5s
` + rest
}

// rawRequest is a request written by hand on its own TCP connection, so a
// test decides when (and whether) its body is sent.
type rawRequest struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

// sendHead opens a connection to hg and writes a POST to path with the
// given header lines, then the first part of the body.
func sendHead(t *testing.T, hg *instance, path string, headers []string, first []byte) *rawRequest {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(hg.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var head strings.Builder
	fmt.Fprintf(&head, "POST %s HTTP/1.1\r\nHost: hookgate\r\n", path)
	for _, h := range headers {
		head.WriteString(h + "\r\n")
	}
	head.WriteString("\r\n")
	if _, err := io.WriteString(conn, head.String()); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(first); err != nil {
		t.Fatal(err)
	}
	return &rawRequest{t: t, conn: conn, br: bufio.NewReader(conn)}
}

// send writes more of the body.
func (r *rawRequest) send(p []byte) {
	r.t.Helper()
	if _, err := r.conn.Write(p); err != nil {
		r.t.Fatalf("write body: %v", err)
	}
}

// answer reads the response, waiting up to 10s, and decodes its JSON body.
func (r *rawRequest) answer() (*http.Response, map[string]any) {
	r.t.Helper()
	_ = r.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(r.br, nil)
	if err != nil {
		r.t.Fatalf("no answer within 10s: %v", err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		r.t.Fatalf("read the answer's body: %v", err)
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		r.t.Fatalf("answer %d is not JSON: %q", resp.StatusCode, raw)
	}
	return resp, body
}

// waitClosed waits up to 10s for the server to close the connection.
func (r *rawRequest) waitClosed() {
	r.t.Helper()
	_ = r.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := io.Copy(io.Discard, r.br)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		r.t.Fatalf("the server kept the connection open for 10s after answering (%d more bytes)", n)
	}
}

// waitMetric polls the admin /metrics until series (a name without
// labels) has value, failing after 10s.
func waitMetric(t *testing.T, hg *instance, series string, value float64) {
	t.Helper()
	url := adminURL(t, hg) + "/metrics"
	deadline := time.Now().Add(10 * time.Second)
	last := "absent"
	for {
		_, exp := adminCall(t, http.MethodGet, url, "")
		for _, line := range strings.Split(exp, "\n") {
			if v, ok := strings.CutPrefix(line, series+" "); ok {
				last = v
				if f, err := strconv.ParseFloat(v, 64); err == nil && f == value {
					return
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is %s, not %v, after 10s", series, last, value)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// itemsJSON is {"items":["…",…]} of exactly size bytes, items of 1,000
// characters but the last, which takes what is left; n is the item count.
func itemsJSON(size int) (body []byte, n int) {
	b := []byte(`{"items":[`)
	item := `"` + strings.Repeat("i", 1000) + `"`
	for len(b)+len(item)+1+len(`,""]}`) <= size {
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, item...)
		n++
	}
	if n > 0 {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, strings.Repeat("l", size-len(b)-len(`"]}`))...)
	return append(b, `"]}`...), n + 1
}

// wantBusyAnswer checks the SPEC §11 answer past max_concurrent or spool_max.
func wantBusyAnswer(t *testing.T, r response) {
	t.Helper()
	if r.Status != http.StatusServiceUnavailable || r.Body["error"] != "busy" || r.Body["request_id"] == nil ||
		r.Header.Get("Retry-After") != "1" {
		t.Fatalf("answer %d %s (Retry-After %q), want 503 {\"error\":\"busy\",\"request_id\":…} with Retry-After: 1",
			r.Status, r.Raw, r.Header.Get("Retry-After"))
	}
}
