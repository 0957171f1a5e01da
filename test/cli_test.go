package test

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cejs "github.com/cloudevents/sdk-go/protocol/nats_jetstream/v2"
	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/nats-io/nats.go"

	"github.com/hookgate/hookgate/test/natstest"
)

func TestTaskDecodesWithTheCloudEventsSDK(t *testing.T) {
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": ordersConfig}))
	resp := hg.post("shop", "application/json", []byte(`{"orders":[{"sku":"A-1"}]}`))
	if resp.Status != http.StatusAccepted {
		t.Fatalf("status %d body %s", resp.Status, resp.Raw)
	}
	id := resp.Header.Get("X-Request-Id")

	// The SDK's own JetStream protocol receives the task: no custom code.
	p, err := cejs.NewProtocol(hg.NATSURL, "HOOKGATE_TASKS", "tasks.shop-orders", "tasks.shop-orders",
		nil, nil, []nats.SubOpt{nats.DeliverAll()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// OpenInbound runs the subscription until Close.
	inbound := make(chan error, 1)
	go func() { inbound <- p.OpenInbound(ctx) }()
	defer func() {
		_ = p.Close(context.Background())
		<-inbound
	}()
	msg, err := p.Receive(ctx)
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	ev, err := binding.ToEvent(ctx, msg)
	if err != nil {
		t.Fatalf("the CloudEvents SDK cannot read the task: %v", err)
	}
	_ = msg.Finish(nil)
	if err := ev.Validate(); err != nil {
		t.Fatalf("invalid event: %v", err)
	}
	if ev.ID() != id+"-shop-orders-0" || ev.Source() != "/webhooks/shop" || ev.Type() != "hookgate.shop-orders" ||
		ev.DataContentType() != "application/json" || string(ev.Data()) != `{"sku":"A-1"}` {
		t.Errorf("event %s", ev)
	}
	if ext := ev.Extensions(); ext["webhook"] != "shop" || ext["incoming"] != "shop-orders" || ext["requestid"] != id {
		t.Errorf("extensions %v", ext)
	}
	if time.Since(ev.Time()) > time.Minute {
		t.Errorf("event time %v", ev.Time())
	}
}

func TestValidateCommand(t *testing.T) {
	good := writeConfig(t, map[string]string{"hookgate.yaml": ordersConfig})
	out, err := exec.Command(binary, "validate", "-c", good).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok: 8 webhooks, 7 incoming, 0 outgoing, 0 routes" {
		t.Fatalf("validate: %v %s", err, out)
	}
	bad := writeConfig(t, map[string]string{"bad.yaml": "webhooks:\n  - name: X\n    incoming: erp\n"})
	cmd := exec.Command(binary, "validate", "-c", bad)
	out, err = cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 1 {
		t.Fatalf("exit %d, want 1: %v %s", cmd.ProcessState.ExitCode(), err, out)
	}
	want := filepath.Join(bad, "bad.yaml") + `:3: webhooks[0].incoming: "erp" is not defined`
	if !strings.HasPrefix(string(out), want) {
		t.Errorf("validate printed %q, want a line starting %q", out, want)
	}
}

func TestVersionCommand(t *testing.T) {
	out, err := exec.Command(binary, "version").CombinedOutput()
	if err != nil || string(out) != "hookgate e2e\n" {
		t.Fatalf("version: %v %q", err, out)
	}
}

func TestSendSignsAsTheWebhookExpectsAndTailShowsTheTasks(t *testing.T) {
	dir := writeConfig(t, map[string]string{"hookgate.yaml": ordersConfig})
	hg := start(t, dir)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tail := exec.CommandContext(ctx, binary, "tail", "tasks.erp-orders", "--nats", hg.NATSURL)
	stdout, err := tail.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	tail.Stderr = os.Stderr
	if err := tail.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	defer func() {
		_ = tail.Process.Kill()
		for range lines { // until stdout closes: the reader ends
		}
		_ = tail.Wait()
	}()
	var seen bytes.Buffer
	// read collects tail's lines until done holds, calling poke first and
	// then every 100ms while it waits.
	read := func(what string, done func() bool, poke func()) {
		t.Helper()
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for poke(); !done(); {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("tail ended; it printed:\n%s", seen.String())
				}
				seen.WriteString(l + "\n")
			case <-tick.C:
				poke()
			case <-ctx.Done():
				t.Fatalf("tail did not show %s; it printed:\n%s", what, seen.String())
			}
		}
	}
	// tail shows only what is published once its subscription reached the
	// server: publish probes on its subject until it prints one.
	nc, _ := connectJS(t, hg.NATSURL)
	defer nc.Close()
	read("a probe", func() bool { return strings.Contains(seen.String(), "tail-probe") },
		func() { _ = nc.Publish("tasks.erp-orders", []byte("tail-probe")) })

	file := filepath.Join(t.TempDir(), "orders.xml")
	if err := os.WriteFile(file, []byte(ordersXML), 0o644); err != nil {
		t.Fatal(err)
	}
	send := exec.Command(binary, "send", "erp-orders", "-c", dir, "--file", file, "--url", hg.URL+"/webhooks/erp-orders")
	out, err := send.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "200 OK") || !strings.Contains(string(out), `"tasks":3`) {
		t.Fatalf("send: %v\n%s\n%s", err, out, hg.log)
	}

	// tail prints both tasks: their headers and bodies.
	read("both tasks", func() bool {
		s := seen.String()
		return strings.Count(s, "ce-itemcount: 2") >= 2 && strings.Contains(s, "Jürgen Müller") && strings.Contains(s, `"Ann"`)
	}, func() {})
}

func TestNATSUnavailableIs503WithRetryAfter(t *testing.T) {
	ns := natstest.Start(t)
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": ordersConfig}), "TEST_NATS_URL="+ns.ClientURL())
	if resp := hg.post("auto", "application/json", []byte(`{"a":1}`)); resp.Status != 200 {
		t.Fatalf("with NATS up: status %d body %s", resp.Status, resp.Raw)
	}
	assertStatus(t, hg.URL+"/healthz", 200)
	assertStatus(t, hg.URL+"/readyz", 200)
	ns.Shutdown()
	ns.WaitForShutdown()
	resp := hg.post("auto", "application/json", []byte(`{"a":2}`))
	if resp.Status != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d (Retry-After %q) body %s, want 503 with Retry-After", resp.Status, resp.Header.Get("Retry-After"), resp.Raw)
	}
	assertStatus(t, hg.URL+"/healthz", 200) // the process is up
	assertStatus(t, hg.URL+"/readyz", 503)  // but not connected
}

func assertStatus(t *testing.T, url string, want int) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Errorf("GET %s: %d, want %d", url, resp.StatusCode, want)
	}
}
