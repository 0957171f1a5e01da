package test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// opsConfig is one webhook storing each JSON item, with NATS at url.
func opsConfig(url, natsExtra, serverExtra string) string {
	return fmt.Sprintf(`
server: {listen: "127.0.0.1:0", shutdown_timeout: 10s%s}
admin: {listen: ""}
log: {level: info, format: json}
nats:
  url: %q
  publish_timeout: 2s
  stream: {duplicates: 1m}
  embedded: {listen: "127.0.0.1:0", store_dir: "${TEST_STORE_DIR}"}
  %s
incoming:
  - {name: orders, parser: json, pattern_to_items: items}
webhooks:
  - {name: Orders, identifier: orders, incoming: orders}
`, serverExtra, url, natsExtra)
}

// freeAddr is a loopback host:port nothing listens on (yet).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startListening runs `hookgate serve -c path` and returns once its public
// listener is up (its "listening" line), before NATS may be connected.
func startListening(t *testing.T, path string, env ...string) *instance {
	t.Helper()
	inst, line := serveUntil(t, path, "listening", env...)
	inst.URL = "http://" + line["listen"].(string)
	return inst
}

// logLines are the process's JSON log lines with the message msg.
func (i *instance) logLines(msg string) []map[string]any {
	var out []map[string]any
	for _, l := range strings.Split(i.log.String(), "\n") {
		var line map[string]any
		if json.Unmarshal([]byte(l), &line) == nil && line["msg"] == msg {
			out = append(out, line)
		}
	}
	return out
}

// waitFor polls cond every 50ms until it holds, failing after 60s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 60s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readyz is the status of GET /readyz.
func (i *instance) readyz() int {
	i.t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(i.URL + "/readyz")
	if err != nil {
		i.t.Fatalf("GET /readyz: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
