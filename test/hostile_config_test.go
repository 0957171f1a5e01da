package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/test/syncbuf"
	"github.com/nats-io/nats.go"
)

// validateOutput runs `hookgate validate -c dir` with env added and
// returns its exit code and stdout+stderr.
func validateOutput(t *testing.T, dir string, env ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(binary, "validate", "-c", dir)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	_ = cmd.Run()
	return cmd.ProcessState.ExitCode(), out.String()
}

// lineOf is the 1-based line of text holding marker.
func lineOf(t *testing.T, text, marker string) int {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, marker) {
			return i + 1
		}
	}
	t.Fatalf("no line holds %q", marker)
	return 0
}

// SPEC §11: `validate` refuses each configuration that would open hookgate
// to a hostile sender, destination or network, with FILE:LINE: path:
// message, and never prints a secret.
func TestValidateRefusesHostileConfigs(t *testing.T) {
	t.Parallel()
	const hooks = `
incoming: [{name: orders, parser: json}]
webhooks:
  - name: Orders
    incoming: orders
`
	tests := []struct {
		name   string
		yaml   string
		env    []string
		marker string // the line the problem is reported on
		path   string
		text   string
		secret string // must not appear in the output
	}{
		{
			name: "a generic hmac whose signature does not cover its timestamp",
			yaml: hooks + `    pre_processors:
      - hmac:
          header: X-Signature
          algorithm: sha256
          timestamp_header: X-Timestamp
          signed_payload: "{body}"
          secret: Hmac-Secret-e2e-1
`,
			marker: "signed_payload:", path: "webhooks[0].pre_processors[0].hmac.signed_payload",
			text: "does not sign the timestamp of timestamp_header, so a captured signature replays with a fresh timestamp", secret: "Hmac-Secret-e2e-1",
		},
		{
			name:   "an embedded NATS server on every interface without auth",
			yaml:   "nats:\n  embedded:\n    listen: \"0.0.0.0:4222\"\n" + hooks,
			marker: "embedded:", path: "nats.embedded.auth",
			text: `required when nats.embedded.listen "0.0.0.0:4222" is not a loopback address`,
		},
		{
			name:   "an outgoing URL on the CGNAT metadata address",
			yaml:   hooks + "outgoing:\n  - {name: meta, url: \"http://100.100.100.200/latest/meta-data\"}\n",
			marker: "100.100.100.200", path: "outgoing[0].url",
			text: "host 100.100.100.200 is in 100.64.0.0/10 (CGNAT",
		},
		{
			name:   "an outgoing URL on the NAT64 form of 169.254.169.254",
			yaml:   hooks + "outgoing:\n  - {name: meta, url: \"http://[64:ff9b::a9fe:a9fe]/\"}\n",
			marker: "64:ff9b", path: "outgoing[0].url",
			text: "host 64:ff9b::a9fe:a9fe is the NAT64 form of 169.254.169.254",
		},
		{
			name:   "an invalid nats.url with a password",
			yaml:   "nats:\n  url: \"http://hookgate:Nats-Pa55-e2e-2@nats.example.com:4222\"\n" + hooks,
			marker: "url:", path: "nats.url",
			text: `invalid server URL "http://hookgate:***@`, secret: "Nats-Pa55-e2e-2",
		},
		{
			name: "a token_url outside the profile's allowed_domains",
			yaml: hooks + `outgoing:
  - {name: erp, url: "https://erp.example.com/orders", auth: erp-oauth}
auth_profiles:
  - name: erp-oauth
    type: oauth2_client_credentials
    client_id: hookgate
    client_secret: Client-Secret-e2e-3
    token_url: https://login.attacker.example/token
    allowed_domains: [erp.example.com]
`,
			marker: "token_url:", path: "auth_profiles[0].token_url",
			text: "host login.attacker.example is outside allowed_domains (erp.example.com); the client secret is sent there", secret: "Client-Secret-e2e-3",
		},
		{
			name:   "a secret written where a list belongs",
			yaml:   hooks + "    pre_processors:\n      - header_secret: {header: X-Auth, secrets: Header-Secret-e2e-4}\n",
			marker: "header_secret:", path: "webhooks[0].pre_processors[0].header_secret.secrets",
			text: "must be a list; got a single value (not shown: it is a secret)", secret: "Header-Secret-e2e-4",
		},
		{
			name:   "a secret from the environment reused where a value is quoted",
			yaml:   "admin: {listen: \"127.0.0.1:0\", token: \"${HG_E2E_TOKEN}\"}\nlog: {level: \"${HG_E2E_TOKEN}\"}\n" + hooks,
			env:    []string{"HG_E2E_TOKEN=Admin-Token-e2e-5"},
			marker: "log:", path: "log.level",
			text: `unknown value "***"; use debug, info, warn or error`, secret: "Admin-Token-e2e-5",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := writeConfig(t, map[string]string{"hookgate.yaml": tt.yaml})
			code, out := validateOutput(t, dir, tt.env...)
			if code != 1 {
				t.Fatalf("exit %d, want 1; output:\n%s", code, out)
			}
			prefix := fmt.Sprintf("%s:%d: %s: ", filepath.Join(dir, "hookgate.yaml"), lineOf(t, tt.yaml, tt.marker), tt.path)
			found := false
			for _, l := range strings.Split(out, "\n") {
				found = found || strings.HasPrefix(l, prefix) && strings.Contains(l, tt.text)
			}
			if !found {
				t.Errorf("validate printed\n%s\nwant a line starting %q containing %q", out, prefix, tt.text)
			}
			if tt.secret != "" && strings.Contains(out, tt.secret) {
				t.Errorf("validate printed the secret %q:\n%s", tt.secret, out)
			}
			if tt.secret == "" {
				return
			}
			// serve refuses the same config at start, with the same problems.
			serve := exec.Command(binary, "serve", "-c", dir)
			serve.Env = append(os.Environ(), tt.env...)
			served, _ := serve.CombinedOutput()
			if code := serve.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(served), prefix) {
				t.Errorf("serve: exit %d, want 1 with the line %q; output:\n%s", code, prefix, served)
			}
			if strings.Contains(string(served), tt.secret) {
				t.Errorf("serve printed the secret %q:\n%s", tt.secret, served)
			}
		})
	}
}

// embeddedAuthBase is baseConfig with nats.embedded.auth from the
// environment (HG_NATS_AUTH, a YAML flow map).
const embeddedAuthBase = `
server: {listen: "127.0.0.1:0", shutdown_timeout: 10s}
admin: {listen: ""}
log: {level: debug, format: json}
nats:
  embedded:
    listen: "127.0.0.1:0"
    store_dir: "${TEST_STORE_DIR:-data/nats}"
    max_payload: 1MiB
    auth: ${HG_NATS_AUTH}
  stream: {duplicates: 1m}
  publish_timeout: 2s
webhooks:
  - {name: Orders, identifier: orders, incoming: orders}
incoming:
  - {name: orders, parser: json, pattern_to_items: items}
`

// SPEC §11: with nats.embedded.auth the embedded server refuses clients
// without it, while hookgate stores and delivers tasks, and clients that
// present it (tests, hookgate tail) work.
func TestServeWithEmbeddedAuth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		auth   string // the nats.embedded.auth written in the file
		user   *url.Userinfo
		secret string
	}{
		{"token", `{token: "${HG_NATS_SECRET}"}`, url.User("Emb-T0ken-e2e"), "Emb-T0ken-e2e"},
		{"user and password", `{user: hookgate, password: "${HG_NATS_SECRET}"}`, url.UserPassword("hookgate", "Emb-Pa55-e2e"), "Emb-Pa55-e2e"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rcv := newReceiver(t, nil)
			cfg := strings.Replace(embeddedAuthBase, "${HG_NATS_AUTH}", tt.auth, 1) + `
outgoing:
  - {name: erp, url: "` + rcv.URL + `", allow_private_networks: true, ` + fastRetry + `}
routes:
  - {name: all, incoming: orders, outgoing: [erp]}
`
			hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": cfg}), "HG_NATS_SECRET="+tt.secret)

			// A client without the credentials is refused.
			if nc, err := nats.Connect(hg.NATSURL, nats.NoReconnect()); err == nil {
				nc.Close()
				t.Fatalf("a client without credentials connected to %s", hg.NATSURL)
			} else if !strings.Contains(err.Error(), "Authorization Violation") {
				t.Fatalf("a client without credentials: %v; want an Authorization Violation", err)
			}
			withCreds, err := url.Parse(hg.NATSURL)
			if err != nil {
				t.Fatal(err)
			}
			withCreds.User = tt.user
			natsURL := withCreds.String()

			// hookgate stores the tasks and delivers them.
			postItems(t, hg, `{"n":1}`, `{"n":2}`)
			stored := readStream(t, natsURL, "HOOKGATE_TASKS", "tasks.orders", 2)
			if string(stored[0].Data) != `{"n":1}` || string(stored[1].Data) != `{"n":2}` {
				t.Fatalf("stored %s and %s", stored[0].Data, stored[1].Data)
			}
			waitSettled(t, natsURL, 20*time.Second)
			if got := rcv.deliveries(); len(got) != 2 {
				t.Fatalf("%d deliveries, want 2", len(got))
			}

			// hookgate tail works with the credentials in its URL.
			tailShows(t, hg, natsURL, `"n":3`)

			if strings.Contains(hg.log.String(), tt.secret) {
				t.Errorf("hookgate's log shows the embedded auth secret:\n%s", hg.log)
			}
		})
	}
}

// tailShows runs `hookgate tail tasks.> --nats natsURL` and posts items
// holding want until tail prints one: tail stores nothing, so an item
// posted before its subscription is in place is not shown.
func tailShows(t *testing.T, hg *instance, natsURL, want string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tail := exec.CommandContext(ctx, binary, "tail", "tasks.>", "--nats", natsURL)
	out := &syncbuf.Buffer{}
	tail.Stdout, tail.Stderr = out, out
	if err := tail.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		_ = tail.Wait()
	}()
	for !strings.Contains(out.String(), want) {
		if ctx.Err() != nil {
			t.Fatalf("tail did not show %s; it printed:\n%s", want, out)
		}
		postItems(t, hg, "{"+want+"}")
		time.Sleep(200 * time.Millisecond)
	}
}

// SPEC §11: a refused reload, through SIGHUP or the admin API, names the
// problem but not the secret, in the log and in the API's answer.
func TestRefusedReloadShowsNoSecret(t *testing.T) {
	t.Parallel()
	good := adminConfig
	bad := strings.Replace(adminConfig, "secret: e2e-header-secret", "secrets: Reload-Secret-e2e-6", 1)
	dir := writeConfig(t, map[string]string{"hookgate.yaml": good})
	hg := start(t, dir)
	admin := adminURL(t, hg)
	if err := os.WriteFile(filepath.Join(dir, "hookgate.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}

	status, body := adminCall(t, "POST", admin+"/api/v1/reload", "t0ken")
	var refused struct {
		Error    string
		Problems []string
	}
	if status != http.StatusUnprocessableEntity || json.Unmarshal([]byte(body), &refused) != nil || len(refused.Problems) == 0 {
		t.Fatalf("reload of a broken config: %d %s; want 422 with problems", status, body)
	}
	if !strings.Contains(refused.Problems[0], "webhooks[0].pre_processors[0].header_secret.secrets: must be a list") {
		t.Errorf("the problem does not say what is wrong: %q", refused.Problems)
	}
	if strings.Contains(body, "Reload-Secret-e2e-6") {
		t.Errorf("the reload API shows the secret: %s", body)
	}

	if err := hg.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); strings.Count(hg.log.String(), "config reload refused") < 2; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the SIGHUP reload was not refused in the log within 15s:\n%s", hg.log)
		}
	}
	if !strings.Contains(hg.log.String(), "header_secret.secrets: must be a list") {
		t.Errorf("the log does not name the problem:\n%s", hg.log)
	}
	if strings.Contains(hg.log.String(), "Reload-Secret-e2e-6") {
		t.Errorf("the log shows the secret:\n%s", hg.log)
	}
}
