package test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SPEC §8: SIGHUP loads a new config; an invalid one is refused with its
// errors logged and the old one keeps serving.
func TestSIGHUPReloadsAndAnInvalidConfigKeepsTheOldOne(t *testing.T) {
	dir := writeConfig(t, map[string]string{"hookgate.yaml": baseConfig + `
webhooks: [{name: First, incoming: items}]
incoming: [{name: items, parser: json}]
`})
	hg := start(t, dir)
	if r := hg.post("second", "application/json", []byte(`{}`)); r.Status != 404 {
		t.Fatalf("before reload: %d", r.Status)
	}

	write := func(text string) {
		if err := os.WriteFile(filepath.Join(dir, "hookgate.yaml"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := hg.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	eventually := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if ok() {
				return
			}
		}
		t.Fatalf("%s within 10s\n%s", what, hg.log)
	}

	write(baseConfig + `
webhooks: [{name: First, incoming: items}, {name: Second, incoming: items}]
incoming: [{name: items, parser: json}]
`)
	eventually("the new webhook answers 200", func() bool {
		return hg.post("second", "application/json", []byte(`{"n":1}`)).Status == 200
	})

	write(baseConfig + `
webhooks: [{name: Second, incoming: nowhere}]
`)
	eventually("the refused reload is logged", func() bool {
		return strings.Contains(hg.log.String(), "config reload refused")
	})
	if !strings.Contains(hg.log.String(), `\"nowhere\" is not defined`) {
		t.Errorf("the log does not name the problem:\n%s", hg.log)
	}
	for _, id := range []string{"first", "second"} {
		if r := hg.post(id, "application/json", []byte(`{"n":2}`)); r.Status != 200 {
			t.Errorf("%s after an invalid reload: %d %s, want the old config serving", id, r.Status, r.Raw)
		}
	}
}
