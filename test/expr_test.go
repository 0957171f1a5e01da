package test

import (
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// exprBase is a JSON webhook that forwards X-GitHub-Event onto its tasks,
// so that cel filters can read it (SPEC §12).
const exprBase = baseConfig + `
webhooks:
  - {name: Events, identifier: events, incoming: events, forward_headers: [X-GitHub-Event]}
incoming:
  - {name: events, parser: json, pattern_to_items: items}
`

// postEvent posts {"items":[...]} with an X-GitHub-Event header and returns the request id.
func postEvent(t *testing.T, hg *instance, event string, items ...string) string {
	t.Helper()
	resp := hg.post("events", "application/json", []byte(`{"items":[`+strings.Join(items, ",")+`]}`), "X-GitHub-Event: "+event)
	if resp.Status != http.StatusOK || resp.Body["tasks"] != float64(len(items)) {
		t.Fatalf("post: status %d body %s, want 200 with %d tasks", resp.Status, resp.Raw, len(items))
	}
	return resp.Header.Get("X-Request-Id")
}

func TestExprCELFilterPassesExactlyTheMatchingItems(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, nil)
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": exprBase + `
outgoing:
  - {name: ci, url: "` + rcv.URL + `/ci", allow_private_networks: true, ` + fastRetry + `}
routes:
  - name: big-pushes
    incoming: events
    filter:
      - {path: kind, exists: true}
      - cel: 'headers["X-GitHub-Event"] == "push" && webhook == "events" && incoming == "events"'
      - cel: 'item.commits.exists(c, c.added > 100) || item.ref.startsWith("refs/tags/")'
    outgoing: [ci]
`}))
	push := postEvent(t, hg, "push",
		`{"kind":"a","id":1,"ref":"refs/heads/main","commits":[{"added":5},{"added":150}]}`,
		`{"kind":"a","id":2,"ref":"refs/heads/main","commits":[{"added":5}]}`,
		`{"kind":"a","id":3,"ref":"refs/tags/v1","commits":[]}`,
		`{"id":4,"ref":"refs/tags/v2","commits":[]}`,
	)
	issues := postEvent(t, hg, "issues", `{"kind":"a","id":5,"ref":"refs/tags/v3","commits":[{"added":500}]}`)
	waitSettled(t, hg.NATSURL, 15*time.Second)

	var got []string
	for _, d := range rcv.deliveries() {
		got = append(got, d.Header.Get("Idempotency-Key")+" "+string(d.Body))
	}
	sort.Strings(got)
	want := []string{
		push + `-events-0 {"kind":"a","id":1,"ref":"refs/heads/main","commits":[{"added":5},{"added":150}]}`,
		push + `-events-2 {"kind":"a","id":3,"ref":"refs/tags/v1","commits":[]}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("delivered\n%s\nwant exactly\n%s\n(the issues event %s and items 1 and 3 of %s filtered out)", strings.Join(got, "\n"), strings.Join(want, "\n"), issues, push)
	}
	if st := streamState(t, hg.NATSURL, "HOOKGATE_DLQ", "dlq.>"); st.Msgs != 0 {
		t.Errorf("%d dead letters, want none: %v", st.Msgs, st.Subjects)
	}
}

func TestExprJQTransformDeliversExactBodies(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, nil)
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": exprBase + `
outgoing:
  - {name: shop, url: "` + rcv.URL + `/orders", allow_private_networks: true, ` + fastRetry + `}
routes:
  - name: orders-to-shop
    incoming: events
    transform:
      - set: {source: erp}
      - jq: '{orderId: .["-id"], source, total: (.Total | tonumber), lines: [.Lines.Line] | flatten | map({sku: .Sku, qty: (.Quantity | tonumber)})}'
      - rename: {orderId: id}
    outgoing: [shop]
`}))
	id := postEvent(t, hg, "order",
		`{"-id":"SO-1","Total":"120.50","Lines":{"Line":[{"Sku":"A-1","Quantity":"2"},{"Sku":"B-2","Quantity":"1"}]},"ref":12345678901234567890}`,
		`{"-id":"SO-2","Total":"9","Lines":{"Line":{"Sku":"C-3","Quantity":"5"}}}`,
	)
	waitSettled(t, hg.NATSURL, 15*time.Second)
	want := map[string]string{
		id + "-events-0": `{"lines":[{"qty":2,"sku":"A-1"},{"qty":1,"sku":"B-2"}],"source":"erp","total":120.5,"id":"SO-1"}`,
		id + "-events-1": `{"lines":[{"qty":5,"sku":"C-3"}],"source":"erp","total":9,"id":"SO-2"}`,
	}
	got := rcv.deliveries()
	if len(got) != len(want) {
		t.Fatalf("%d deliveries, want %d: %v", len(got), len(want), got)
	}
	for _, d := range got {
		key := d.Header.Get("Idempotency-Key")
		if string(d.Body) != want[key] || d.Header.Get("Content-Type") != "application/json" {
			t.Errorf("task %s delivered as %s (%s)\nwant %s", key, d.Body, d.Header.Get("Content-Type"), want[key])
		}
	}
}

func TestExprFailingStepsAreDeadLettersNamingTheStep(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, nil)
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": exprBase + `
outgoing:
  - {name: shop, url: "` + rcv.URL + `/orders", allow_private_networks: true, ` + fastRetry + `}
routes:
  - name: lines
    incoming: events
    transform:
      - remove: [note]
      - jq: '.lines[]'
    outgoing: [shop]
  - name: big
    incoming: events
    filter:
      - cel: 'double(item.Total) > 100.0'
    outgoing: [shop]
`}))
	postEvent(t, hg, "order", `{"id":1,"lines":[{"sku":"A"},{"sku":"B"}],"note":"x"}`)
	waitSettled(t, hg.NATSURL, 15*time.Second)
	orig := readStream(t, hg.NATSURL, "HOOKGATE_TASKS", "tasks.events", 1)[0]
	for subject, want := range map[string]map[string]string{
		"dlq.lines.shop": {
			"hookgate-error":    "transform: transform[1].jq: several outputs; a jq transform must yield exactly one value (collect them in an array: [ … ])",
			"hookgate-status":   "0",
			"hookgate-attempts": "1",
			"hookgate-route":    "lines",
			"hookgate-outgoing": "shop",
		},
		"dlq.big.shop": {
			"hookgate-error":    "filter: filter[0].cel: no such key: Total",
			"hookgate-status":   "0",
			"hookgate-attempts": "1",
			"hookgate-route":    "big",
			"hookgate-outgoing": "shop",
		},
	} {
		dl := readStream(t, hg.NATSURL, "HOOKGATE_DLQ", subject, 1)
		assertDeadLetter(t, dl[0], orig, want)
	}
	if st := streamState(t, hg.NATSURL, "HOOKGATE_DLQ", "dlq.>"); st.Msgs != 2 {
		t.Errorf("%d dead letters, want 2: %v", st.Msgs, st.Subjects)
	}
	if n := len(rcv.deliveries()); n != 0 {
		t.Errorf("%d deliveries, want none: a failing step sends nothing", n)
	}
}

func TestExprValidateReportsBadCELAndJQAtTheirLines(t *testing.T) {
	t.Parallel()
	text := exprBase + `
outgoing:
  - {name: shop, url: "https://shop.example.com/orders"}
routes:
  - name: bad
    incoming: events
    filter:
      - {path: kind, exists: true}
      - cel: 'item.status == '
      - cel: 'item.total + 1'
    transform:
      - jq: '{id: .id'
    outgoing: [shop]
`
	lines := strings.Split(text, "\n")
	lineOf := func(prefix string) int {
		for i, l := range lines {
			if strings.HasPrefix(strings.TrimSpace(l), prefix) {
				return i + 1
			}
		}
		t.Fatalf("no line %q", prefix)
		return 0
	}
	dir := writeConfig(t, map[string]string{"hookgate.yaml": text})
	cmd := exec.Command(binary, "validate", "-c", dir)
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Fatalf("exit %d, want 1; output:\n%s", code, out)
	}
	file := filepath.Join(dir, "hookgate.yaml")
	for _, want := range []string{
		fmt.Sprintf("%s:%d: routes[0].filter[1].cel: invalid CEL: 1:16: Syntax error", file, lineOf("- cel: 'item.status")),
		fmt.Sprintf("%s:%d: routes[0].filter[2].cel: yields int, not bool", file, lineOf("- cel: 'item.total")),
		fmt.Sprintf("%s:%d: routes[0].transform[0].jq: invalid jq at offset 8: unexpected EOF", file, lineOf("- jq:")),
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("validate printed\n%s\nwant a line starting %q", out, want)
		}
	}
}
