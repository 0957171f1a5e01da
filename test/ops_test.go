package test

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/hookgate/hookgate/test/natstest"
)

// SPEC §13: serve started before its NATS keeps retrying, one log line per
// attempt, with /readyz and the webhooks at 503; once NATS is there it
// serves without a restart, and a 200 means the task is stored.
func TestServeStartedBeforeNATSServesOnceItIsThere(t *testing.T) {
	addr := freeAddr(t)
	hg := startListening(t, writeConfig(t, map[string]string{"hookgate.yaml": opsConfig("nats://"+addr, "", "")}))

	if got := hg.readyz(); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz %d before NATS, want 503", got)
	}
	r := hg.post("orders", "application/json", []byte(`{"items":[{"n":1}]}`))
	if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" ||
		!strings.HasPrefix(r.Body["error"].(string), "NATS unavailable") {
		t.Errorf("POST before NATS: %d %s (Retry-After %q), want 503 NATS unavailable with Retry-After", r.Status, r.Raw, r.Header.Get("Retry-After"))
	}
	waitFor(t, "two failed attempts logged", func() bool { return len(hg.logLines("nats not reachable; retrying")) >= 2 })
	for i, l := range hg.logLines("nats not reachable; retrying")[:2] {
		if l["attempt"] != float64(i+1) || l["error"] == nil {
			t.Errorf("attempt line %d: %v, want attempt %d with its error", i+1, l, i+1)
		}
	}
	if len(hg.logLines("hookgate started")) != 0 {
		t.Error(`"hookgate started" logged before NATS was connected`)
	}

	_, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	ns := natstest.Run(t, server.Options{Port: p})
	waitFor(t, "/readyz 200 once NATS runs", func() bool { return hg.readyz() == http.StatusOK })
	r = hg.post("orders", "application/json", []byte(`{"items":[{"n":1},{"n":2}]}`))
	if r.Status != http.StatusOK || r.Body["tasks"] != float64(2) {
		t.Fatalf("POST once NATS runs: %d %s, want 200 with 2 tasks", r.Status, r.Raw)
	}
	if got := storedTasks(t, ns.ClientURL(), "tasks.orders"); len(got) != 2 {
		t.Errorf("%d tasks stored, want 2 (the 503 stored none)", len(got))
	}
	if len(hg.logLines("hookgate started")) != 1 {
		t.Error(`no "hookgate started" line once connected`)
	}
	hg.stop() // before the NATS server's cleanup stops it
}

// A first connection refused for its credentials ends serve at once with
// the error, and no secret in it; so does nats.connect_timeout, naming it.
func TestServeEndsWhenNATSRefusesOrNeverComes(t *testing.T) {
	const secret = "ops-wrong-s3cret"
	ns := natstest.Run(t, server.Options{Authorization: "the-right-token"})
	natsAddr := ns.Addr().String()
	tests := []struct {
		name, url, extra string
		want             []string
	}{
		{"wrong token", "nats://" + natsAddr, "token: " + secret, []string{"authorization violation", "nats://" + natsAddr}},
		{"password in the url", "nats://hookgate:" + secret + "@" + natsAddr, "", []string{"authorization violation", "hookgate:***@"}},
		{"connect_timeout", "nats://" + freeAddr(t), "connect_timeout: 2s", []string{"nats.connect_timeout 2s", "attempts"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A refusal may end it before its listeners are up.
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, binary, "serve", "-c", writeConfig(t, map[string]string{"hookgate.yaml": opsConfig(tt.url, tt.extra, "")}))
			cmd.Env = append(os.Environ(), "TEST_STORE_DIR="+t.TempDir())
			raw, err := cmd.CombinedOutput()
			out := string(raw)
			if err == nil || ctx.Err() != nil {
				t.Fatalf("hookgate ended with %v (context %v), want an error exit\n%s", err, ctx.Err(), out)
			}
			last := lastLine(out)
			if !strings.HasPrefix(last, "hookgate: nats: nats unavailable") {
				t.Errorf("last line %q, want hookgate's error", last)
			}
			for _, w := range tt.want {
				if !strings.Contains(strings.ToLower(last), strings.ToLower(w)) {
					t.Errorf("error %q does not name %q", last, w)
				}
			}
			if strings.Contains(out, secret) {
				t.Errorf("the output shows the secret:\n%s", out)
			}
		})
	}
}

func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

// server.memory_limit is the process's soft memory limit: its start line
// says which is in force. Written, or by default with the embedded
// server, it wins over GOMEMLIMIT; 0 leaves GOMEMLIMIT in force.
func TestMemoryLimitIsApplied(t *testing.T) {
	tests := []struct {
		name, server string
		env          []string
		want         string
	}{
		{"embedded default", "", nil, "192MiB"},
		{"written", ", memory_limit: 64MiB", nil, "64MiB"},
		{"default wins over GOMEMLIMIT", "", []string{"GOMEMLIMIT=100MiB"}, "192MiB"},
		{"0 leaves GOMEMLIMIT", ", memory_limit: 0", []string{"GOMEMLIMIT=100MiB"}, "100MiB"},
		{"0 without GOMEMLIMIT", ", memory_limit: 0", []string{"GOMEMLIMIT=off"}, "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": opsConfig("", "", tt.server)}), tt.env...)
			lines := hg.logLines("hookgate started")
			if len(lines) != 1 || lines[0]["memory_limit"] != tt.want {
				t.Errorf("start line %v, want memory_limit %q", lines, tt.want)
			}
		})
	}
}
