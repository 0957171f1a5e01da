package test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/test/syncbuf"
	"go.uber.org/goleak"
)

// binary is the hookgate executable built once for every test in TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hookgate-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "hookgate")
	build := exec.Command("go", "build", "-race", "-ldflags", "-X main.version=e2e", "-o", binary, "../cmd/hookgate")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build hookgate:", err)
		os.Exit(1)
	}
	// The goroutines here are the harness's (process waiters, output
	// copiers, receivers): every test must end its own.
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		os.RemoveAll(dir)
		os.Exit(code)
	}))
}

// baseConfig is the part of every test config that keeps hookgate on
// loopback, on free ports, with its NATS store in the test's directory.
const baseConfig = `
server: {listen: "127.0.0.1:0", shutdown_timeout: 10s}
admin: {listen: ""}
log: {level: debug, format: json}
nats:
  url: ${TEST_NATS_URL:-}
  embedded: {listen: "127.0.0.1:0", store_dir: "${TEST_STORE_DIR:-data/nats}", max_payload: "${TEST_MAX_PAYLOAD:-1MiB}"}
  stream: {duplicates: 1m}
  publish_timeout: 2s
`

// instance is one running hookgate process.
type instance struct {
	t       *testing.T
	cmd     *exec.Cmd
	URL     string          // http://127.0.0.1:PORT
	NATSURL string          // the embedded server's client URL
	log     *syncbuf.Buffer // the process's output
	exited  chan struct{}
	exitErr error
}

// writeConfig writes files (name → YAML) into a new directory and returns it.
func writeConfig(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// start runs `hookgate serve -c path` and waits until it is listening.
func start(t *testing.T, path string, env ...string) *instance {
	t.Helper()
	inst, line := serveUntil(t, path, "hookgate started", env...)
	inst.URL = "http://" + line["listen"].(string)
	inst.NATSURL, _ = line["nats"].(string)
	return inst
}

// serveUntil runs `hookgate serve -c path` and returns once it logs the
// line with message msg, and that line.
func serveUntil(t *testing.T, path, msg string, env ...string) (*instance, map[string]any) {
	t.Helper()
	cmd := exec.Command(binary, "serve", "-c", path)
	cmd.Env = append(os.Environ(), "TEST_STORE_DIR="+t.TempDir())
	cmd.Env = append(cmd.Env, env...)
	inst := &instance{t: t, cmd: cmd, log: &syncbuf.Buffer{}, exited: make(chan struct{})}
	pr, pw := io.Pipe()
	cmd.Stderr = io.MultiWriter(inst.log, pw)
	cmd.Stdout = inst.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		inst.exitErr = cmd.Wait()
		pw.Close()
		close(inst.exited)
	}()
	found := make(chan map[string]any, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var line map[string]any
			if json.Unmarshal(sc.Bytes(), &line) == nil && line["msg"] == msg {
				select {
				case found <- line:
				default:
				}
			}
		}
		io.Copy(io.Discard, pr)
	}()
	var line map[string]any
	select {
	case line = <-found:
	case <-inst.exited:
		t.Fatalf("hookgate exited before logging %q: %v\n%s", msg, inst.exitErr, inst.log)
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("hookgate did not log %q within 30s\n%s", msg, inst.log)
	}
	t.Cleanup(func() { inst.stop() })
	return inst, line
}

// stop sends SIGTERM and asserts a clean exit (SPEC §8 graceful shutdown).
func (i *instance) stop() {
	i.t.Helper()
	select {
	case <-i.exited:
		return
	default:
	}
	_ = i.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-i.exited:
		if i.exitErr != nil {
			i.t.Errorf("hookgate exited with %v after SIGTERM\n%s", i.exitErr, i.log)
		}
	case <-time.After(30 * time.Second):
		i.cmd.Process.Kill()
		i.t.Errorf("hookgate did not stop within 30s of SIGTERM\n%s", i.log)
	}
}

// response is a gateway answer, decoded.
type response struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

// post sends body to /webhooks/<identifier> with the given headers ("Name: value").
func (i *instance) post(identifier, contentType string, body []byte, headers ...string) response {
	i.t.Helper()
	return i.do(http.MethodPost, identifier, contentType, body, headers...)
}

func (i *instance) do(method, identifier, contentType string, body []byte, headers ...string) response {
	i.t.Helper()
	req, err := http.NewRequest(method, i.URL+"/webhooks/"+identifier, bytes.NewReader(body))
	if err != nil {
		i.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ": ")
		req.Header.Set(name, value)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		i.t.Fatalf("%s %s: %v\n%s", method, identifier, err, i.log)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if err := json.Unmarshal(raw, &out.Body); err != nil {
		i.t.Errorf("response to %s %s is not JSON: %q", method, identifier, raw)
	}
	return out
}
