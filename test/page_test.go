package test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// screenshots is where TestOperatorPageInChromium writes a PNG of each view
// (empty: none): go test -run TestOperatorPageInChromium ./test/ -screenshots ../docs/images
var screenshots = flag.String("screenshots", "", "write a PNG of each operator page view into this directory")

// pageConfig is two logged webhooks on one incoming and a route to two
// destinations.
func pageConfig(base, erp, picky string) string {
	return base + `
webhooks:
  - {name: Orders, identifier: orders, incoming: orders, logging: true}
  - name: Shop events
    identifier: shop
    incoming: orders
    logging: true
    pre_processors: [{header_secret: {header: X-Auth, secret: page-shop-secret}}]
incoming:
  - {name: orders, parser: json, pattern_to_items: items}
outgoing:
  - {name: erp, url: "` + erp + `", allow_private_networks: true}
  - {name: picky, url: "` + picky + `", allow_private_networks: true}
routes:
  - {name: to-erp, incoming: orders, outgoing: [erp, picky]}
`
}

// TestOperatorPageInChromium drives the operator page of the real binary
// in headless Chromium, step by step as an operator would use it.
func TestOperatorPageInChromium(t *testing.T) {
	b := newBrowser(t)
	var accept atomic.Bool // picky refuses "reject" items with 400 until set
	erp := newReceiver(t, nil)
	picky := newReceiver(t, func(_ int, d delivery, w http.ResponseWriter) {
		if bytes.Contains(d.Body, []byte("reject")) && !accept.Load() {
			w.WriteHeader(http.StatusBadRequest)
		}
	})
	const token = "page-t0ken"
	hg := start(t, writeConfig(t, map[string]string{"hookgate.yaml": pageConfig(withAdmin(baseConfig, token), erp.URL, picky.URL)}))
	admin := adminURL(t, hg)
	content := `document.getElementById('content').innerText`

	t.Run("a wrong token is refused visibly", func(t *testing.T) {
		b := b.with(t)
		b.open(admin + "/")
		b.until("the page asks for the token", `!document.getElementById('login').hidden`, false)
		// A view reads from the API in parallel. Hold back every answer to
		// the wrong token but the first, so one is still in flight when
		// the operator enters the right token (as in a slow CI).
		b.js("hold back late refusals", `const real = window.fetch; let passed = 0; window.heldRefusals = [];
			window.fetch = async (url, opts) => {
				const resp = await real(url, opts);
				if (opts.headers.Authorization === 'Bearer not-the-token' && passed++ > 0) {
					await new Promise((release) => window.heldRefusals.push(release));
				}
				return resp;
			}`)
		b.submit("token", "not-the-token")
		b.until("the page says the token was refused", `!document.getElementById('login').hidden && `+
			`document.getElementById('login-why').textContent.includes('The token was refused (wrong admin token)')`, false)
		b.screenshot(*screenshots, "login")
	})

	// Every later step needs the token: without it they would each wait out
	// pageWait for nothing.
	if !t.Run("with the token it lists webhooks and routes", func(t *testing.T) {
		b := b.with(t)
		b.until("a refusal of the wrong token still in flight", `window.heldRefusals.length > 0`, false)
		b.submit("token", token)
		listed := `document.getElementById('login').hidden && ` +
			`document.querySelector('tr[data-webhook="orders"]') && document.querySelector('tr[data-webhook="shop"]')`
		b.until("both webhooks listed", listed, false)
		// The late refusal of the old token must not forget the new one.
		b.js("let the late refusal arrive", `window.heldRefusals.forEach((release) => release())`)
		time.Sleep(time.Second)
		b.until("the token kept after the late refusal", listed+` && sessionStorage.getItem('hookgate.admin.token') === `+quote(token), false)
		b.visit("#routes")
		b.until("both pairs of the route listed", `document.querySelector('tr[data-pair="to-erp/erp"]') && `+
			`document.querySelector('tr[data-pair="to-erp/picky"]')`, false)
		// Each pair's circuit shows when the routes answer has one, and
		// nothing of it when not.
		status, raw := adminCall(t, http.MethodGet, admin+"/api/v1/routes", token)
		var routes struct {
			Routes []struct {
				Outgoing []struct {
					Name    string
					Circuit *struct{ State string }
				}
			}
		}
		if status != http.StatusOK || json.Unmarshal([]byte(raw), &routes) != nil || len(routes.Routes) != 1 {
			t.Fatalf("GET /api/v1/routes: %d %s", status, raw)
		}
		for _, p := range routes.Routes[0].Outgoing {
			cell := `document.querySelector('tr[data-pair="to-erp/` + p.Name + `"] td.circuit')`
			if p.Circuit == nil {
				b.until("no circuit for "+p.Name, `!`+cell+` && ![...document.querySelectorAll('th')].some((th) => th.textContent === 'Circuit')`, false)
				continue
			}
			b.until("the circuit of "+p.Name, cell+`.dataset.state === `+quote(p.Circuit.State), true)
		}
	}) {
		t.FailNow()
	}

	first := postItems(t, hg, `{"n":1}`, `{"n":2}`)
	t.Run("a request shows right after it was posted", func(t *testing.T) {
		b := b.with(t)
		b.visit("#requests/orders")
		b.until("the request in the list", content+`.includes(`+quote(first)+`)`, true)
	})

	t.Run("the search box finds the request and its task by id", func(t *testing.T) {
		b := b.with(t)
		b.submit("search", first)
		b.until("the request with its four attempts", `document.querySelector('#found[data-kind="request"]') && `+
			content+`.includes('Request id') && `+content+`.includes(`+quote(first)+`) && `+
			`document.querySelectorAll('#found tbody tr.clickable').length === 4`, true)
		task := first + "-orders-1"
		b.submit("search", "not-an-id")
		b.until("the API's answer to a wrong id", content+`.includes('HTTP 400: request id: use the X-Request-Id of a request')`, false)
		b.submit("search", task)
		b.until("the task with its body and two attempts", `document.querySelector('#found[data-kind="task"]') && `+
			content+`.includes('{\n  "n": 2\n}') && document.querySelectorAll('#found tbody tr.clickable').length === 2`, true)
		b.screenshot(*screenshots, "lookup")
	})

	for i := range 11 {
		postItems(t, hg, fmt.Sprintf(`{"n":%d}`, 10+i))
	}
	newest := postItems(t, hg, `{"n":99}`)
	t.Run("paging goes back to an older entry", func(t *testing.T) {
		b := b.with(t)
		b.visit("#requests/orders")
		b.js("pick 10 a page", `const s = document.getElementById('page-size'); s.value = '10'; s.dispatchEvent(new Event('change'))`)
		b.until("the newest ten, without the first request", content+`.includes(`+quote(newest)+`) && !`+content+`.includes(`+quote(first)+`) && `+
			`document.getElementById('page-number').textContent.startsWith('Page 1 · 10 entries')`, true)
		b.screenshot(*screenshots, "requests")
		b.js("go to the older page", `document.getElementById('older').click()`)
		b.until("the first request on page 2", content+`.includes(`+quote(first)+`) && !`+content+`.includes(`+quote(newest)+`) && `+
			`document.getElementById('page-number').textContent.startsWith('Page 2 · 3 entries')`, false)
		b.js("back to the newest page", `document.getElementById('newer').click()`)
		b.until("the newest page again", content+`.includes(`+quote(newest)+`)`, false)
	})

	t.Run("the rate charts show the traffic", func(t *testing.T) {
		b := b.with(t)
		b.visit("#rates")
		bars := func(table string) string {
			return `[...document.querySelectorAll('#` + table + ` svg.chart rect.bar')].some((r) => Number(r.dataset.count) > 0)`
		}
		b.until("a non-zero bar for the webhook and the route", bars("rates-webhooks")+` && `+bars("rates-routes"), true)
		b.until("the webhook's 13 requests", `[...document.querySelectorAll('#rates-webhooks tr')].some((tr) => `+
			`tr.innerText.startsWith('orders') && tr.cells[2].innerText === '13')`, true)
		b.screenshot(*screenshots, "rates")
		b.visit("#webhooks")
		b.until("the webhook's chart", `document.querySelector('tr[data-webhook="orders"] svg.chart rect.bar')`, true)
		b.screenshot(*screenshots, "webhooks")
		b.visit("#routes")
		b.until("the route's chart", `document.querySelector('.route-head svg.chart rect.bar')`, true)
		b.screenshot(*screenshots, "routes")
	})

	refused := postItems(t, hg, `{"reject":true}`)
	task := refused + "-orders-0"
	t.Run("a dead letter is replayed and delivered", func(t *testing.T) {
		b := b.with(t)
		b.visit("#dlq/to-erp")
		b.until("the dead letter listed", content+`.includes(`+quote(task)+`)`, true)
		b.screenshot(*screenshots, "dead-letters")
		accept.Store(true)
		b.js("replay the route's dead letters", `document.getElementById('replay-dlq').click()`)
		b.until("the replay reported", `document.getElementById('notice').innerText.includes('Replayed 1 dead letter(s) of route "to-erp".')`, false)
		b.visit("#deliveries/to-erp/delivered")
		b.until("the task delivered to picky", `[...document.querySelectorAll('#content tbody tr')].some((tr) => `+
			`tr.innerText.includes(`+quote(task)+`) && tr.innerText.includes('picky'))`, true)
		b.screenshot(*screenshots, "deliveries")
		b.visit("#dlq/to-erp")
		b.until("the dead letter gone", `!`+content+`.includes(`+quote(task)+`)`, true)
	})
	var delivered int
	for _, d := range picky.deliveries() {
		if bytes.Contains(d.Body, []byte("reject")) {
			delivered++
		}
	}
	if delivered != 2 {
		t.Errorf("picky got the refused item %d times, want 2 (refused, then replayed)", delivered)
	}

	t.Run("without a token the page loads at once", func(t *testing.T) {
		b := b.with(t)
		open := start(t, writeConfig(t, map[string]string{"hookgate.yaml": pageConfig(
			strings.Replace(baseConfig, `admin: {listen: ""}`, `admin: {listen: "127.0.0.1:0"}`, 1), erp.URL, picky.URL)}))
		b.open(adminURL(t, open) + "/")
		b.until("the webhooks listed without asking", `document.querySelector('tr[data-webhook="orders"]')`, false)
		if hidden, err := eval[bool](b, `document.getElementById('login').hidden`); err != nil || !hidden {
			t.Errorf("the open page shows the token form (hidden %v, %v)", hidden, err)
		}
	})
}

// TestRatesAreCountedFromTheLogAndSurviveARestart: the rates come from
// HOOKGATE_LOG on disk, not from the process's counters, so a process
// started on the same store shows the hour its predecessor served.
func TestRatesAreCountedFromTheLogAndSurviveARestart(t *testing.T) {
	erp, picky := newReceiver(t, nil), newReceiver(t, nil)
	const token = "rates-t0ken"
	path := writeConfig(t, map[string]string{"hookgate.yaml": pageConfig(withAdmin(baseConfig, token), erp.URL, picky.URL)})
	store := "TEST_STORE_DIR=" + t.TempDir()
	totals := func(hg *instance) (requests, attempts float64) {
		t.Helper()
		status, raw := adminCall(t, http.MethodGet, adminURL(t, hg)+"/api/v1/rates", token)
		var body struct {
			Webhooks []struct {
				Identifier string
				Total      float64
			}
			Routes []struct{ Total float64 }
		}
		if status != http.StatusOK || json.Unmarshal([]byte(raw), &body) != nil || len(body.Routes) != 1 {
			t.Fatalf("GET /api/v1/rates: %d %s", status, raw)
		}
		for _, w := range body.Webhooks {
			if w.Identifier == "orders" {
				requests = w.Total
			}
		}
		return requests, body.Routes[0].Total
	}
	hg := start(t, path, store)
	for i := range 3 {
		postItems(t, hg, fmt.Sprintf(`{"n":%d}`, i))
	}
	deadline := time.Now().Add(pageWait)
	for r, a := totals(hg); r != 3 || a != 6; r, a = totals(hg) {
		if time.Now().After(deadline) {
			t.Fatalf("rates before the restart: %v requests, %v attempts; want 3 and 6", r, a)
		}
		time.Sleep(100 * time.Millisecond)
	}
	hg.stop()
	again := start(t, path, store)
	if r, a := totals(again); r != 3 || a != 6 {
		t.Errorf("rates after the restart: %v requests, %v attempts; want the 3 and 6 logged before it", r, a)
	}
}
