// SPEC §11 "Hostile senders, hostile destinations", the router's side: a
// task body no route can read, destinations that redirect, and
// destinations that echo the credentials they were sent.
package test

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// hostileBase is baseConfig with a raw webhook that takes 16MiB bodies; the
// process must be started with TEST_MAX_PAYLOAD=16MiB so that NATS stores them.
const hostileBase = baseConfig + `
webhooks:
  - {name: Audit, identifier: audit, incoming: audit, max_body: 16MiB}
incoming:
  - {name: audit, parser: raw}
`

// SPEC §11: nothing a task body holds stops a consumer or the process.
// 8MB of "[" in a raw task used to overflow gjson's recursive validator
// (fatal error: stack overflow, again on every redelivery) or slip through
// a filter as "not matched". Each step that needs JSON now dead-letters it
// at once, naming itself, and the next task is delivered.
func TestHostileDeepTaskIsADeadLetterAtOnceNamingTheStep(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, route, format, wantErr string
	}{
		{name: "transform", route: `transform: [{set: {seen: true}}]`, format: "json", wantErr: "transform: nesting deeper than 512"},
		{name: "filter", route: `filter: [{path: status, equals: ok}]`, format: "json", wantErr: "filter: nesting deeper than 512"},
		{name: "format xml", route: `disabled: false`, format: "xml", wantErr: "format xml: nesting deeper than 512"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rcv := newReceiver(t, nil)
			hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": hostileBase + `
outgoing:
  - {name: sink, url: "` + rcv.URL + `", format: ` + tc.format + `, allow_private_networks: true, ` + fastRetry + `}
routes:
  - {name: deep, incoming: audit, ` + tc.route + `, outgoing: [sink]}
`}), "TEST_MAX_PAYLOAD=16MiB")

			deep := bytes.Repeat([]byte("["), 8<<20)
			if resp := hg.post("audit", "text/plain", deep); resp.Status != http.StatusOK {
				t.Fatalf("post 8MB of [: status %d %s", resp.Status, resp.Raw)
			}
			awaitDeadLetter(t, hg, "dlq.deep.sink", 60*time.Second)
			dl := deadLetters(t, hg.NATSURL, "dlq.deep.sink", 1)[0]
			orig := readStream(t, hg.NATSURL, "HOOKGATE_TASKS", "tasks.audit", 1)[0]
			assertDeadLetter(t, dl, orig, map[string]string{
				"hookgate-error":    tc.wantErr,
				"hookgate-status":   "0",
				"hookgate-attempts": "1",
				"hookgate-route":    "deep",
				"hookgate-outgoing": "sink",
			})

			// The process is alive and the consumer still delivers.
			if resp := hg.post("audit", "text/plain", []byte(`{"status":"ok"}`)); resp.Status != http.StatusOK {
				t.Fatalf("post a normal task: status %d %s", resp.Status, resp.Raw)
			}
			got := rcv.next(t, 20*time.Second)
			if !bytes.Contains(got.Body, []byte("ok")) {
				t.Errorf("normal task delivered as %q", got.Body)
			}
			waitSettled(t, hg.NATSURL, 15*time.Second)
			if n := len(rcv.deliveries()); n != 1 {
				t.Errorf("%d deliveries, want 1 (the normal task only)", n)
			}
			select {
			case <-hg.exited:
				t.Fatalf("hookgate exited: %v\n%s", hg.exitErr, tailLog(hg))
			default:
			}
			if strings.Contains(hg.log.String(), "stack overflow") {
				t.Errorf("the process log mentions a stack overflow:\n%s", tailLog(hg))
			}
		})
	}
}

// SPEC §6, §11: no redirect is followed; a 3xx is a failed attempt,
// retried like a 5xx, and the task is never acknowledged as delivered
// because a GET without its body reached the redirect's target.
func TestHostileRedirectIsAFailedAttemptNeverFollowed(t *testing.T) {
	t.Parallel()
	target := newReceiver(t, nil)
	rcv := newReceiver(t, func(_ int, _ delivery, w http.ResponseWriter) {
		w.Header().Set("Location", target.URL+"/moved")
		w.WriteHeader(http.StatusFound)
	})
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": routerBase + `
outgoing:
  - {name: moved, url: "` + rcv.URL + `/orders", allow_private_networks: true, retry: {max_attempts: 2, initial_interval: 100ms, max_interval: 200ms}}
routes:
  - {name: all, incoming: orders, outgoing: [moved]}
`}))
	postItems(t, hg, `{"n":1}`)
	dl := deadLetters(t, hg.NATSURL, "dlq.all.moved", 1)[0]
	waitSettled(t, hg.NATSURL, 10*time.Second)
	assertDeadLetter(t, dl, readStream(t, hg.NATSURL, "HOOKGATE_TASKS", "tasks.orders", 1)[0], map[string]string{
		"hookgate-error":    "redirect 302 to 127.0.0.1 not followed",
		"hookgate-status":   "302",
		"hookgate-attempts": "2",
	})
	got := rcv.deliveries()
	if len(got) != 2 {
		t.Errorf("%d attempts at the redirecting destination, want 2 (max_attempts)", len(got))
	}
	for i, d := range got {
		if string(d.Body) != `{"n":1}` {
			t.Errorf("attempt %d body %q, want the task", i+1, d.Body)
		}
	}
	if n := len(target.deliveries()); n != 0 {
		t.Errorf("the redirect's target got %d requests, want none", n)
	}
}

// SPEC §11: a 307 to another host would carry the outgoing's headers, and
// their secrets, away with the body; it is not followed either.
func TestHostileRedirectToAnotherHostCarriesNoSecretThere(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("no second loopback address: %v", err)
	}
	away := make(chan http.Header, 10)
	other := httptest.NewUnstartedServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		away <- r.Header.Clone()
	}))
	other.Listener.Close()
	other.Listener = ln
	other.Start()
	t.Cleanup(other.Close)
	rcv := newReceiver(t, func(_ int, _ delivery, w http.ResponseWriter) {
		w.Header().Set("Location", other.URL+"/steal")
		w.WriteHeader(http.StatusTemporaryRedirect)
	})
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": routerBase + `
outgoing:
  - name: api
    url: "` + rcv.URL + `"
    headers: {X-Api-Key: k3y-must-stay-home}
    allow_private_networks: true
    retry: {max_attempts: 2, initial_interval: 100ms, max_interval: 200ms}
routes:
  - {name: all, incoming: orders, outgoing: [api]}
`}))
	postItems(t, hg, `{"n":1}`)
	dl := deadLetters(t, hg.NATSURL, "dlq.all.api", 1)[0]
	waitSettled(t, hg.NATSURL, 10*time.Second)
	if e, want := dl.Header.Get("hookgate-error"), "redirect 307 to 127.0.0.2 not followed"; e != want {
		t.Errorf("hookgate-error %q, want %q", e, want)
	}
	for _, d := range rcv.deliveries() {
		if d.Header.Get("X-Api-Key") != "k3y-must-stay-home" {
			t.Errorf("the destination itself got X-Api-Key %q", d.Header.Get("X-Api-Key"))
		}
	}
	select {
	case h := <-away:
		t.Errorf("the other host got a request with headers %v, want none", h)
	default:
	}
}

// echoConfig has the admin API on, so that /api/v1/deliveries can be read.
var echoConfig = withAdmin(routerBase, "t0ken-echo") + `routes:
  - {name: echo, incoming: orders, outgoing: [echoer]}
`

// SPEC §11 "No secret is stored": a destination that echoes the request's
// headers in its error answer (JSON, with "/" escaped as some frameworks
// do) gets its bearer token and API key replaced by *** in everything
// hookgate keeps: the attempt log, the admin API, the dead letter and the
// process log.
func TestHostileEchoingDestinationLeavesNoSecretInWhatHookgateKeeps(t *testing.T) {
	t.Parallel()
	const (
		token  = "bearer/t0ken+Secret&<42>"
		apiKey = "api-k3y/Echoed\"quoted\""
	)
	rcv := newReceiver(t, func(_ int, d delivery, w http.ResponseWriter) {
		b, _ := json.Marshal(d.Header)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(bytes.ReplaceAll(b, []byte("/"), []byte(`\/`)))
	})
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": echoConfig + `
auth_profiles:
  - {name: wms-bearer, type: bearer, token: "` + token + `", allowed_domains: [127.0.0.1]}
outgoing:
  - name: echoer
    url: "` + rcv.URL + `"
    auth: wms-bearer
    headers: {X-Api-Key: '` + apiKey + `', X-Trace: visible-trace}
    allow_private_networks: true
    ` + fastRetry + `
`}))
	admin := adminURL(t, hg)
	postItems(t, hg, `{"n":1}`)
	got := rcv.next(t, 15*time.Second)
	if got.Header.Get("Authorization") != "Bearer "+token || got.Header.Get("X-Api-Key") != apiKey {
		t.Fatalf("the destination got Authorization %q and X-Api-Key %q, want the configured ones",
			got.Header.Get("Authorization"), got.Header.Get("X-Api-Key"))
	}
	dl := deadLetters(t, hg.NATSURL, "dlq.echo.echoer", 1)[0]
	waitSettled(t, hg.NATSURL, 10*time.Second)

	logged := readStream(t, hg.NATSURL, "HOOKGATE_LOG", "log.deliveries.>", 1)[0]
	var entry struct {
		Status   int    `json:"status"`
		Response string `json:"response"`
	}
	if err := json.Unmarshal(logged.Data, &entry); err != nil {
		t.Fatalf("attempt log entry %q: %v", logged.Data, err)
	}
	if entry.Status != 400 || !strings.Contains(entry.Response, "***") || !strings.Contains(entry.Response, "visible-trace") {
		t.Errorf("attempt log response %q (status %d), want the 400's echo with *** for the secrets and the rest kept", entry.Response, entry.Status)
	}
	deliveries := pollDeliveries(t, admin+"/api/v1/deliveries?route=echo", "t0ken-echo")

	var dlText strings.Builder
	for k, vs := range dl.Header {
		dlText.WriteString(k + ": " + strings.Join(vs, ", ") + "\n")
	}
	dlText.Write(dl.Data)
	kept := map[string]string{
		"attempt log entry":      string(logged.Data),
		"attempt log response":   entry.Response,
		"GET /api/v1/deliveries": deliveries,
		"dead letter":            dlText.String(),
		"process log":            hg.log.String(),
	}
	for where, text := range kept {
		for _, secret := range secretForms(token, apiKey) {
			if strings.Contains(text, secret) {
				t.Errorf("%s holds the secret %q:\n%s", where, secret, text)
			}
		}
	}
}

// secretForms are the ways a secret can be spelled in what is kept: as
// sent, JSON-escaped (as the log entry and the admin API encode it) and
// with "/" escaped as the echoing destination does; and distinctive pieces
// of it, so that a partial mask is caught too.
func secretForms(secrets ...string) []string {
	var out []string
	for _, s := range secrets {
		b, _ := json.Marshal(s)
		esc := strings.Trim(string(b), `"`)
		out = append(out, s, esc, strings.ReplaceAll(esc, "/", `\/`), strings.ReplaceAll(strings.ReplaceAll(esc, "/", `\/`), `\`, `\\`))
	}
	return append(out, "t0ken+Secret", "k3y/Echoed", `k3y\/Echoed`)
}

// pollDeliveries GETs the deliveries answer until it lists an attempt.
func pollDeliveries(t *testing.T, url, token string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, raw := adminCall(t, "GET", url, token)
		var out struct{ Deliveries []json.RawMessage }
		if status == 200 && json.Unmarshal([]byte(raw), &out) == nil && len(out.Deliveries) > 0 {
			return raw
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %d %s", url, status, raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// SPEC §6, §11: a task whose headers are just under JetStream's 64KiB (a
// forwarded header filled by a sender, published here straight to the
// task subject) on a route whose filter cannot read it. Its dead letter
// with the hookgate-* headers added would pass 64KiB (err_code=10097) and
// used to be retried forever, holding back the ordered pair; now a reduced
// dead letter is stored, naming the header it left out, and the pair goes
// on with the next task.
func TestHostileTaskHeadersAtTheLimitStillGetADeadLetter(t *testing.T) {
	t.Parallel()
	rcv := newReceiver(t, nil)
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": routerBase + `
outgoing:
  - {name: sink, url: "` + rcv.URL + `", ordered: true, allow_private_networks: true, ` + fastRetry + `}
routes:
  - {name: picky, incoming: orders, filter: [{path: status, equals: ok}], outgoing: [sink]}
`}))
	// 100 bytes of room: fewer than the hookgate-* headers take.
	big := bigHeaderTask("tasks.orders", "not json", "X-Big", 1<<16-1-100)
	publishRaw(t, hg.NATSURL, big)

	dl := deadLetters(t, hg.NATSURL, "dlq.picky.sink", 1)[0]
	if string(dl.Data) != "not json" {
		t.Errorf("dead letter body %q, want the task's", dl.Data)
	}
	if got := dl.Header.Get("hookgate-dropped-headers"); got != "X-Big" {
		t.Errorf("hookgate-dropped-headers %q, want X-Big", got)
	}
	if got := dl.Header.Get("X-Big"); got != "" {
		t.Errorf("dead letter kept X-Big (%d bytes), want it dropped", len(got))
	}
	for _, k := range []string{"ce-id", "ce-source", "ce-type", "content-type"} {
		if dl.Header.Get(k) != big.Header.Get(k) {
			t.Errorf("dead letter %s = %q, want the task's %q", k, dl.Header.Get(k), big.Header.Get(k))
		}
	}
	for k, want := range map[string]string{
		"hookgate-status": "0", "hookgate-attempts": "1", "hookgate-route": "picky",
		"hookgate-outgoing": "sink", "hookgate-msg-id": big.Header.Get("Nats-Msg-Id"),
	} {
		if got := dl.Header.Get(k); got != want {
			t.Errorf("dead letter %s = %q, want %q", k, got, want)
		}
	}
	if e := dl.Header.Get("hookgate-error"); !strings.HasPrefix(e, "filter: the task body is not valid JSON") {
		t.Errorf("hookgate-error %q, want the filter's refusal", e)
	}

	postItems(t, hg, `{"status":"ok"}`)
	if got := rcv.next(t, 20*time.Second); string(got.Body) != `{"status":"ok"}` {
		t.Errorf("next task delivered as %q", got.Body)
	}
	waitSettled(t, hg.NATSURL, 15*time.Second)
	if strings.Contains(hg.log.String(), "dead letter not stored, will retry") {
		t.Errorf("the dead letter was retried:\n%s", tailLog(hg))
	}
}
