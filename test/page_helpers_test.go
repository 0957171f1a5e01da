package test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// pageWait bounds every wait for the operator page: a view refreshes every
// 5 s and each step waits on a condition, never on a fixed time.
const pageWait = 30 * time.Second

// browser is one tab of a headless Chromium from the OS packages, closed
// with the test. Every dialog (the page's confirm()) is accepted.
type browser struct {
	t   *testing.T
	ctx context.Context
}

// chromiumPath finds the browser the OS packages install.
func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath()
	if path == "" && os.Getenv("HOOKGATE_REQUIRE_CHROMIUM") != "" {
		t.Fatal("chromium is not installed but HOOKGATE_REQUIRE_CHROMIUM is set (.ci/run sets it after installing chromium with apt-get)")
	}
	if path == "" {
		t.Skip("chromium is not installed: the operator page's browser tests need it (apt-get install chromium; .ci/run installs it)")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	stop := func() {
		cancel()
		cancelAlloc() // waits for the browser process to end
	}
	// The first run starts the browser; it takes no timeout (a timeout
	// would end the browser with it), so a start that hangs is bounded here.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx, chromedp.Navigate("about:blank")) }()
	select {
	case err := <-started:
		if err != nil {
			stop()
			t.Fatalf("start %s: %v", path, err)
		}
	case <-time.After(pageWait):
		stop()
		<-started
		t.Fatalf("%s did not start within %s", path, pageWait)
	}
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	t.Cleanup(func() {
		stop()
		<-done
	})
	return &browser{t: t, ctx: ctx}
}

// with is the same tab reporting to t (a subtest).
func (b *browser) with(t *testing.T) *browser { return &browser{t: t, ctx: b.ctx} }

// visit goes to a view of the page by its hash.
func (b *browser) visit(hash string) {
	b.t.Helper()
	b.js("go to "+hash, "location.hash = "+quote(hash))
}

// do runs steps, bounded by pageWait.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, pageWait)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v\npage: %s", what, err, b.text())
	}
}

// open loads url in the tab. Storage is per origin and tab, so a fresh
// load keeps the token a former step entered.
func (b *browser) open(url string) {
	b.t.Helper()
	b.do("open "+url, chromedp.Navigate(url))
}

// eval runs a JavaScript expression and decodes its value into T.
func eval[T any](b *browser, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, pageWait)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr))
}

// js runs a statement for its effect (a click, a value), failing the test
// when it throws.
func (b *browser) js(what, stmt string) {
	b.t.Helper()
	if _, err := eval[bool](b, "(() => { "+stmt+"; return true; })()"); err != nil {
		b.t.Fatalf("%s: %v\npage: %s", what, err, b.text())
	}
}

// until waits for a JavaScript condition to hold, up to pageWait; refresh
// clicks the page's Refresh button between tries, as an operator would.
func (b *browser) until(what, cond string, refresh bool) {
	b.t.Helper()
	deadline := time.Now().Add(pageWait)
	refreshed := time.Now()
	for {
		ok, err := eval[bool](b, "(() => { try { return !!("+cond+"); } catch (e) { return false; } })()")
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: not within %s (last error %v)\npage: %s", what, pageWait, err, b.text())
		}
		// A refresh drops the answer of the one before it: the page needs
		// time to show one (a lookup reads streams for up to a second).
		if refresh && time.Since(refreshed) > 3*time.Second {
			_, _ = eval[bool](b, "(() => { document.getElementById('refresh').click(); return true; })()")
			refreshed = time.Now()
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// text is the page's visible text, for failure messages.
func (b *browser) text() string {
	s, err := eval[string](b, "document.body ? document.body.innerText : ''")
	if err != nil {
		return fmt.Sprintf("(unreadable: %v)", err)
	}
	return s
}

// submit types v into the input with id and submits its form.
func (b *browser) submit(id, v string) {
	b.t.Helper()
	raw, _ := json.Marshal(v)
	b.js("fill #"+id, fmt.Sprintf(`const i = document.getElementById(%q); i.value = %s; i.form.requestSubmit()`, id, raw))
}

// screenshot writes the viewport as dir/name.png when dir is set.
func (b *browser) screenshot(dir, name string) {
	b.t.Helper()
	if dir == "" {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, pageWait)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// quote is s as a JavaScript string literal.
func quote(s string) string {
	raw, _ := json.Marshal(s)
	return string(raw)
}
