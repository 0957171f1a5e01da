package admin

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookgate/hookgate/configs"
)

// pageHeaders are the headers every file of the operator page carries.
var pageHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
		"img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy":        "no-referrer",
	"Cache-Control":          "no-store",
}

// openAdmin is an admin server with an empty token on loopback: the API is
// open, as SPEC §9 allows there.
func openAdmin(t *testing.T) string {
	t.Helper()
	a, err := New(Options{Listen: "127.0.0.1:0", Gatherer: prometheus.NewRegistry(),
		Current: func() *configs.Config { return &configs.Config{} }})
	if err != nil {
		t.Fatal(err)
	}
	return httptestServer(t, a)
}

func TestThePageIsServedWithoutTheTokenWithItsHeaders(t *testing.T) {
	s := startStack(t, webhooksConfig) // admin.token is set
	open := openAdmin(t)
	for _, tc := range []struct {
		name        string
		base        string
		method      string
		path        string
		contentType string
		body        string
	}{
		{"the shell needs no token when one is configured", s.admin.URL, "GET", "/", "text/html; charset=utf-8", pageHTML},
		{"the script needs no token when one is configured", s.admin.URL, "GET", "/page.js", "text/javascript; charset=utf-8", pageJS},
		{"the style needs no token when one is configured", s.admin.URL, "GET", "/page.css", "text/css; charset=utf-8", pageCSS},
		{"the shell is served on an open API", open, "GET", "/", "text/html; charset=utf-8", pageHTML},
		{"the script is served on an open API", open, "GET", "/page.js", "text/javascript; charset=utf-8", pageJS},
		{"the style is served on an open API", open, "GET", "/page.css", "text/css; charset=utf-8", pageCSS},
		{"HEAD answers the shell's headers", s.admin.URL, "HEAD", "/", "text/html; charset=utf-8", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, tc.method, tc.base+tc.path, "")
			if r.Status != http.StatusOK {
				t.Fatalf("status %d, want 200: %s", r.Status, r.Body)
			}
			if got := r.Header.Get("Content-Type"); got != tc.contentType {
				t.Errorf("Content-Type %q, want %q", got, tc.contentType)
			}
			for k, want := range pageHeaders {
				if got := r.Header.Values(k); len(got) != 1 || got[0] != want {
					t.Errorf("%s %q, want %q", k, got, want)
				}
			}
			if r.Body != tc.body {
				t.Errorf("body is not the embedded file (%d bytes, want %d)", len(r.Body), len(tc.body))
			}
			if tc.method == "GET" && len(r.Body) < 100 {
				t.Errorf("the file is nearly empty: %q", r.Body)
			}
			for _, secret := range secrets {
				if strings.Contains(r.Body, secret) {
					t.Errorf("the page holds the configured secret %q", secret)
				}
			}
		})
	}
}

func TestOtherPathsKeepTheAPIsAnswers(t *testing.T) {
	s := startStack(t, webhooksConfig)
	auth := "Authorization: Bearer " + testToken
	for _, tc := range []apiCase{
		{"an unknown path is the JSON 404", "GET", "/nope", []string{auth}, 404, "not found"},
		{"an unknown path without a token is still 401", "GET", "/nope", nil, 401, "missing admin token; send Authorization: Bearer <admin.token>"},
		{"the shell is served on / only", "GET", "/page.html", []string{auth}, 404, "not found"},
		{"a file beside the page is not served", "GET", "/page/page.js", []string{auth}, 404, "not found"},
		{"a path below / is not the shell", "GET", "/index.html", []string{auth}, 404, "not found"},
		{"the page refuses POST", "POST", "/", nil, 405, "method not allowed; use GET"},
		{"the script refuses DELETE", "DELETE", "/page.js", nil, 405, "method not allowed; use GET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, s.admin.URL)
		})
	}
}

func TestTheShellLoadsOnlyItsOwnFiles(t *testing.T) {
	s := startStack(t, webhooksConfig)
	for _, tag := range regexp.MustCompile(`(?i)<script\b[^>]*>`).FindAllString(pageHTML, -1) {
		if !strings.Contains(tag, ` src="`) {
			t.Errorf("the shell has a script without src: %s", tag)
		}
	}
	refs := regexp.MustCompile(`(?i)<(script|link)\b[^>]*\b(src|href)="([^"]*)"`).FindAllStringSubmatch(pageHTML, -1)
	want := map[string]bool{"/page.js": false, "/page.css": false}
	for _, m := range refs {
		if _, ok := want[m[3]]; !ok {
			t.Errorf("the shell loads %q, not one of its own files", m[3])
			continue
		}
		want[m[3]] = true
		if r := do(t, "GET", s.admin.URL+m[3], ""); r.Status != http.StatusOK {
			t.Errorf("%s: %d", m[3], r.Status)
		}
	}
	for path, seen := range want {
		if !seen {
			t.Errorf("the shell does not load %s", path)
		}
	}
}

// TestThePageHasNoHTMLSinks keeps untrusted data out of the HTML parser:
// bodies and headers from senders are shown on the page, so page.js builds
// nodes and text only, and the shell has no inline code or style (the CSP
// would block them anyway, so they would be dead code).
func TestThePageHasNoHTMLSinks(t *testing.T) {
	for _, tc := range []struct {
		name   string
		file   string
		text   string
		sink   string // a regular expression
		sample string // a line the expression must catch
	}{
		{"no innerHTML", "page.js", pageJS, `innerHTML`, `n.innerHTML = body`},
		{"no outerHTML", "page.js", pageJS, `outerHTML`, `n.outerHTML = x`},
		{"no insertAdjacentHTML", "page.js", pageJS, `insertAdjacentHTML`, `n.insertAdjacentHTML('beforeend', x)`},
		{"no document.write", "page.js", pageJS, `document\s*\.\s*write`, `document.writeln(x)`},
		{"no eval", "page.js", pageJS, `\beval\s*\(`, `eval (x)`},
		{"no new Function", "page.js", pageJS, `\bnew\s+Function\b`, `new Function('return 1')`},
		{"no Function called as a constructor", "page.js", pageJS, `\bFunction\s*\(`, `Function('return 1')()`},
		{"no setTimeout with a string", "page.js", pageJS, `\bset(Timeout|Interval)\s*\(\s*[^\s(a-zA-Z_$]`, "setTimeout(`refresh()`, 5)"},
		{"no range fragments from strings", "page.js", pageJS, `createContextualFragment|DOMParser|srcdoc`, `r.createContextualFragment(x)`},
		{"no javascript: URLs", "page.js", pageJS, `(?i)javascript:`, `a.href = 'javascript:x'`},
		{"the token is not kept in localStorage", "page.js", pageJS, `localStorage`, `localStorage.setItem(k, t)`},
		{"no inline script in the shell", "page.html", pageHTML, `(?i)<script\b[^>]*>[^<\s]`, `<script>alert(1)</script>`},
		{"no style element in the shell", "page.html", pageHTML, `(?i)<style\b`, `<style>b{}</style>`},
		{"no style attribute in the shell", "page.html", pageHTML, `(?i)\sstyle\s*=`, `<b style="x">`},
		{"no event handler attribute in the shell", "page.html", pageHTML, `(?i)\son[a-z]+\s*=`, `<body onload="go()">`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			re := regexp.MustCompile(tc.sink)
			if !re.MatchString(tc.sample) {
				t.Fatalf("the guard %q does not catch %q; fix the guard", tc.sink, tc.sample)
			}
			for i, line := range strings.Split(tc.text, "\n") {
				if re.MatchString(line) {
					t.Errorf("%s:%d: %s", tc.file, i+1, strings.TrimSpace(line))
				}
			}
		})
	}
}

// apiCall is one `api('METHOD', '/api/v1/...')` in page.js, the one way
// the script reaches the API.
var apiCall = regexp.MustCompile("api\\('(GET|POST)', ['`](/api/v1/[^'`]*)['`]\\)")

// templatePart is a `${...}` in a path template.
var templatePart = regexp.MustCompile(`\$\{([^}]*)\}`)

func TestEveryAPIPathInThePageIsServed(t *testing.T) {
	calls := apiCall.FindAllStringSubmatch(pageJS, -1)
	if n := strings.Count(pageJS, "/api/v1/"); n != len(calls) {
		t.Fatalf("page.js names /api/v1/ %d times but makes %d api('METHOD', path) calls; "+
			"reach the API only through api() with a literal path template", n, len(calls))
	}
	if n := strings.Count(pageJS, "fetch("); n != 1 {
		t.Fatalf("page.js calls fetch %d times; only api() may", n)
	}
	s := startStack(t, webhooksConfig)
	seen := map[string]bool{}
	for _, c := range calls {
		method, template := c[1], c[2]
		t.Run(method+" "+template, func(t *testing.T) {
			// A lookup by id gets a well-formed id (unknown: 404); the
			// other parts are names, filters and bounds.
			lookup := method == "GET" && (strings.HasPrefix(template, "/api/v1/requests/") || strings.HasPrefix(template, "/api/v1/tasks/"))
			sampled := templatePart.ReplaceAllString(template, "sample")
			seen[method+" "+endpoint(sampled)] = true
			path := templatePart.ReplaceAllStringFunc(template, func(part string) string {
				expr := templatePart.FindStringSubmatch(part)[1]
				if !strings.HasPrefix(expr, "encodeURIComponent(") {
					t.Errorf("%s is not encoded; wrap it in encodeURIComponent", part)
				}
				switch {
				case strings.Contains(expr, "limit"):
					return "50"
				case strings.Contains(expr, "status"):
					return "failed"
				case strings.Contains(expr, "before"):
					return "" // the newest page
				case lookup && strings.HasPrefix(template, "/api/v1/tasks/"):
					return uuid.Must(uuid.NewV7()).String() + "-orders-0"
				case lookup:
					return uuid.Must(uuid.NewV7()).String()
				}
				return "sample"
			})
			r := s.api(method, path)
			if r.Status == http.StatusMethodNotAllowed || r.Status == http.StatusUnauthorized {
				t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Body)
			}
			var body struct{ Error string }
			r.json(t, &body)
			if body.Error == "not found" {
				t.Fatalf("%s %s is not served by the admin mux: %d %s", method, path, r.Status, r.Body)
			}
			if method == "GET" && r.Status != http.StatusOK && !(lookup && r.Status == http.StatusNotFound) {
				t.Errorf("%s %s: %d %s", method, path, r.Status, r.Body)
			}
		})
	}
	// The page covers every endpoint of SPEC §9 and the lookups and rates of §13.
	for _, want := range []string{
		"GET /api/v1/webhooks", "GET /api/v1/webhooks/sample/requests", "GET /api/v1/routes",
		"GET /api/v1/deliveries", "GET /api/v1/dlq", "POST /api/v1/dlq/sample/replay",
		"POST /api/v1/requests/sample/replay", "POST /api/v1/reload",
		"GET /api/v1/rates", "GET /api/v1/requests/sample", "GET /api/v1/tasks/sample",
	} {
		if !seen[want] {
			t.Errorf("page.js never calls %s", want)
		}
	}
}

// endpoint is path without its query.
func endpoint(path string) string {
	p, _, _ := strings.Cut(path, "?")
	return p
}
