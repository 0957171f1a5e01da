package test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// reloadRouterBase is routerBase with the admin API on.
var reloadRouterBase = withAdmin(routerBase, "t0ken")

// reloadRouterOutgoing is one outgoing to url that retries quickly.
func reloadRouterOutgoing(name, url string) string {
	return `  - {name: ` + name + `, url: "` + url + `", allow_private_networks: true, ` + fastRetry + "}\n"
}

// bodies is every delivered body, in arrival order.
func bodies(r *receiver) []string {
	var out []string
	for _, d := range r.deliveries() {
		out = append(out, string(d.Body))
	}
	return out
}

// SPEC §8: a reload applies routes and outgoing configurations too, without
// a restart, and a refused reload keeps the old ones delivering.
func TestReloadAppliesRouteChangesAndARefusedOneKeepsTheOldRoutes(t *testing.T) {
	t.Parallel()
	first, second, moved := newReceiver(t, nil), newReceiver(t, nil), newReceiver(t, nil)
	dir := writeConfig(t, map[string]string{"hookgate.yaml": reloadRouterBase +
		"outgoing:\n" + reloadRouterOutgoing("erp", first.URL) +
		"routes:\n  - {name: to-erp, incoming: orders, outgoing: [erp]}\n"})
	hg := start(t, dir)
	admin := adminURL(t, hg)
	write := func(text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "hookgate.yaml"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	logged := func(what string, n int) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if strings.Count(hg.log.String(), what) >= n {
				return
			}
		}
		t.Fatalf("%q not logged %d times within 20s\n%s", what, n, hg.log)
	}

	postItems(t, hg, `{"n":1}`)
	waitSettled(t, hg.NATSURL, 15*time.Second)

	// A route added by SIGHUP starts delivering.
	write(reloadRouterBase + "outgoing:\n" + reloadRouterOutgoing("erp", first.URL) + reloadRouterOutgoing("wms", second.URL) + `routes:
  - {name: to-erp, incoming: orders, outgoing: [erp]}
  - {name: to-wms, incoming: orders, outgoing: [wms]}
`)
	if err := hg.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	logged(`"msg":"config reloaded"`, 1)
	postItems(t, hg, `{"n":2}`)
	waitSettled(t, hg.NATSURL, 15*time.Second)
	// The admin API lists the routes running now, not those of the start.
	if status, body := adminCall(t, "GET", admin+"/api/v1/routes", "t0ken"); status != 200 ||
		!strings.Contains(body, `"name":"to-wms"`) || !strings.Contains(body, `"delivered":1`) {
		t.Errorf("GET /api/v1/routes after the reload: %d %s, want to-wms with 1 delivered", status, body)
	}

	// An outgoing URL changed by a reload (the API this time) delivers to
	// the new receiver.
	changed := reloadRouterBase + "outgoing:\n" + reloadRouterOutgoing("erp", moved.URL) + reloadRouterOutgoing("wms", second.URL) + `routes:
  - {name: to-erp, incoming: orders, outgoing: [erp]}
  - {name: to-wms, incoming: orders, outgoing: [wms]}
`
	write(changed)
	if status, body := adminCall(t, "POST", admin+"/api/v1/reload", "t0ken"); status != 200 {
		t.Fatalf("reload: %d %s", status, body)
	}
	postItems(t, hg, `{"n":3}`)
	waitSettled(t, hg.NATSURL, 15*time.Second)

	// An invalid config is refused; the routes in force keep delivering.
	write(strings.Replace(changed, "outgoing: [wms]}", "outgoing: [wms, nowhere]}", 1))
	if err := hg.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	logged("config reload refused", 1)
	postItems(t, hg, `{"n":4}`)
	waitSettled(t, hg.NATSURL, 15*time.Second)

	for _, tc := range []struct {
		name string
		rcv  *receiver
		want []string
	}{
		{"the first erp URL", first, []string{`{"n":1}`, `{"n":2}`}},
		{"wms, added by SIGHUP", second, []string{`{"n":2}`, `{"n":3}`, `{"n":4}`}},
		{"the erp URL set by the reload", moved, []string{`{"n":3}`, `{"n":4}`}},
	} {
		if got := bodies(tc.rcv); strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s got %v, want %v", tc.name, got, tc.want)
		}
	}
	if !strings.Contains(hg.log.String(), `"router_restarted":true`) {
		t.Errorf("the reload log lines do not say the router restarted:\n%s", hg.log)
	}
}

// SPEC §9: GET /api/v1/dlq lists a dead letter; POST
// /api/v1/dlq/{route}/replay delivers it again to its own (route,
// outgoing) pair only, once, and empties the dead letters.
func TestDeadLetterIsListedAndReplayedOnceToItsPairOnly(t *testing.T) {
	t.Parallel()
	var fixed atomic.Bool
	strict := newReceiver(t, func(_ int, _ delivery, w http.ResponseWriter) {
		if !fixed.Load() {
			w.WriteHeader(http.StatusBadRequest)
		}
	})
	audit := newReceiver(t, nil)
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": reloadRouterBase +
		"outgoing:\n" + reloadRouterOutgoing("strict-erp", strict.URL) + reloadRouterOutgoing("audit-log", audit.URL) + `routes:
  - {name: to-erp, incoming: orders, outgoing: [strict-erp]}
  - {name: audit, incoming: orders, outgoing: [audit-log]}
`}))
	admin := adminURL(t, hg)
	id := postItems(t, hg, `{"sku":"A-1"}`)
	task := id + "-orders-0"
	deadLetters(t, hg.NATSURL, "dlq.to-erp.strict-erp", 1)
	waitSettled(t, hg.NATSURL, 15*time.Second)

	status, body := adminCall(t, "GET", admin+"/api/v1/dlq?route=to-erp", "t0ken")
	var listed struct {
		DeadLetters []struct {
			Subject string
			TaskID  string `json:"task_id"`
			Headers map[string]string
			Body    string
		} `json:"dead_letters"`
	}
	if err := json.Unmarshal([]byte(body), &listed); status != 200 || err != nil {
		t.Fatalf("GET /api/v1/dlq: %d %s (%v)", status, body, err)
	}
	if len(listed.DeadLetters) != 1 {
		t.Fatalf("%d dead letters listed, want 1: %s", len(listed.DeadLetters), body)
	}
	dl := listed.DeadLetters[0]
	if dl.TaskID != task || dl.Subject != "dlq.to-erp.strict-erp" || dl.Body != `{"sku":"A-1"}` ||
		dl.Headers["hookgate-status"] != "400" || dl.Headers["hookgate-outgoing"] != "strict-erp" {
		t.Errorf("listed dead letter %+v, want task %s from strict-erp with status 400", dl, task)
	}

	fixed.Store(true)
	status, body = adminCall(t, "POST", admin+"/api/v1/dlq/to-erp/replay", "t0ken")
	if status != 200 || strings.TrimSpace(body) != `{"replayed":1}` {
		t.Fatalf("replay: %d %s, want 200 {\"replayed\":1}", status, body)
	}
	strict.next(t, 5*time.Second) // the 400
	replayed := strict.next(t, 15*time.Second)
	waitSettled(t, hg.NATSURL, 15*time.Second)
	if k := replayed.Header.Get("Idempotency-Key"); k != task || string(replayed.Body) != `{"sku":"A-1"}` {
		t.Errorf("replayed delivery %q with Idempotency-Key %q, want the task %s unchanged", replayed.Body, k, task)
	}
	if n := len(strict.deliveries()); n != 2 {
		t.Errorf("strict-erp got %d requests, want 2 (the 400, then the replay once)", n)
	}
	if n := len(audit.deliveries()); n != 1 {
		t.Errorf("the audit route of the same incoming got %d requests, want 1: the replay is for to-erp only", n)
	}
	if _, body := adminCall(t, "GET", admin+"/api/v1/dlq?route=to-erp", "t0ken"); strings.TrimSpace(body) != `{"dead_letters":[]}` {
		t.Errorf("dead letters after the replay: %s", body)
	}
	deadLetters(t, hg.NATSURL, "dlq.>", 0)
}
