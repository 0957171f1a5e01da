package gateway

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"
	"go.uber.org/zap"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
	"github.com/hookgate/hookgate/test/syncbuf"
)

// brokerDirEnv, when set, makes this test binary a JetStream broker storing
// in that directory instead of running tests: benchmarks re-exec themselves
// with it so that the broker's allocations and CPU are not counted as the
// gateway's, without building a separate binary.
const brokerDirEnv = "HOOKGATE_BENCH_BROKER_DIR"

// brokerStartTimeout bounds how long a benchmark waits for the broker's URL
// and, at cleanup, for the broker to exit before it is killed.
const brokerStartTimeout = 15 * time.Second

// TestMain runs the tests, failing them if a goroutine outlives them, or
// serves as the benchmarks' separate broker when brokerDirEnv is set.
func TestMain(m *testing.M) {
	if dir := os.Getenv(brokerDirEnv); dir != "" {
		os.Exit(runBroker(dir, os.Stdin, os.Stdout, os.Stderr))
	}
	goleak.VerifyTestMain(m)
}

// runBroker serves JetStream from dir on a free loopback port, writes its
// client URL as one line to out, and shuts down once in is closed (the
// parent exited or cleaned up) or on SIGTERM/SIGINT.
func runBroker(dir string, in io.Reader, out, errOut io.Writer) int {
	// Checked first: nats-server reports an unusable store only by never
	// becoming ready.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		fmt.Fprintf(errOut, "bench broker: store dir: %v; set %s to a writable directory\n", err, brokerDirEnv)
		return 1
	}
	s, err := server.NewServer(&server.Options{
		Host:      "127.0.0.1",
		Port:      server.RANDOM_PORT,
		JetStream: true,
		StoreDir:  dir,
		NoLog:     true,
		NoSigs:    true,
	})
	if err != nil {
		fmt.Fprintf(errOut, "bench broker: new server in %s: %v\n", dir, err)
		return 1
	}
	go s.Start()
	if !s.ReadyForConnections(brokerStartTimeout) {
		s.Shutdown()
		fmt.Fprintf(errOut, "bench broker: not ready within %s; is %s writable?\n", brokerStartTimeout, dir)
		return 1
	}
	if !s.JetStreamEnabled() {
		s.Shutdown()
		fmt.Fprintf(errOut, "bench broker: JetStream did not start on store %s\n", dir)
		return 1
	}
	defer func() {
		s.Shutdown()
		s.WaitForShutdown()
	}()
	if _, err := fmt.Fprintln(out, s.ClientURL()); err != nil {
		fmt.Fprintf(errOut, "bench broker: write URL: %v\n", err)
		return 1
	}

	closed := make(chan struct{})
	go func() {
		// The parent never writes: EOF (or an error) means it is gone.
		_, _ = io.Copy(io.Discard, in)
		close(closed)
	}()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, os.Interrupt)
	defer signal.Stop(sigs)
	select {
	case <-closed:
	case <-sigs:
	}
	return 0
}

// startBroker starts a JetStream broker in a child process (this test
// binary re-executed with brokerDirEnv, storing in tb.TempDir()) and returns
// its client URL. The child is stopped in tb.Cleanup: its stdin is closed,
// then it is waited for, then killed if it did not exit in time.
func startBroker(tb testing.TB) string {
	tb.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), brokerDirEnv+"="+tb.TempDir())
	var stderr syncbuf.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatalf("bench broker: stdin pipe: %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatalf("bench broker: stdout pipe: %v", err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("bench broker: start %s: %v", os.Args[0], err)
	}

	exited := make(chan error, 1)
	urls := make(chan string, 1)
	go func() {
		// Read the one line before Wait: Wait closes the stdout pipe.
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		urls <- strings.TrimSpace(line)
		exited <- cmd.Wait()
	}()
	stopped := false
	tb.Cleanup(func() {
		if stopped {
			return
		}
		_ = stdin.Close()
		select {
		case err := <-exited:
			if err != nil {
				tb.Errorf("bench broker: exited with %v after its stdin closed; stderr: %s", err, stderr.String())
			}
		case <-time.After(brokerStartTimeout):
			_ = cmd.Process.Kill()
			<-exited
			tb.Errorf("bench broker: still running %s after its stdin closed; killed it", brokerStartTimeout)
		}
	})

	select {
	case url := <-urls:
		if !strings.HasPrefix(url, "nats://") {
			// The child failed before printing: wait for it to learn why.
			err := <-exited
			stopped = true
			tb.Fatalf("bench broker: no client URL (got %q, exit %v); stderr: %s", url, err, stderr.String())
		}
		return url
	case <-time.After(brokerStartTimeout):
		_ = cmd.Process.Kill()
		<-exited
		stopped = true
		tb.Fatalf("bench broker: no client URL within %s; stderr: %s", brokerStartTimeout, stderr.String())
		return ""
	}
}

// TestRunBroker covers the broker side of startBroker without a child
// process: it prints a reachable URL and stops when its input closes.
func TestRunBroker(t *testing.T) {
	tests := []struct {
		name     string
		dir      func(t *testing.T) string
		wantCode int
		wantErr  string
	}{
		{"a writable store dir serves and stops on closed input", func(t *testing.T) string { return t.TempDir() }, 0, ""},
		{"a store dir that is a file is refused at once", func(t *testing.T) string {
			f := t.TempDir() + "/file"
			if err := os.WriteFile(f, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return f
		}, 1, "bench broker:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.dir(t)
			inR, inW := io.Pipe()
			outR, outW := io.Pipe()
			var errOut syncbuf.Buffer
			code := make(chan int, 1)
			go func() {
				code <- runBroker(dir, inR, outW, &errOut)
				_ = outW.Close()
			}()
			line, _ := bufio.NewReader(outR).ReadString('\n')
			if tt.wantCode == 0 {
				if !strings.HasPrefix(line, "nats://127.0.0.1:") {
					t.Fatalf("first line %q, want nats://127.0.0.1:PORT; stderr: %s", line, errOut.String())
				}
			}
			_ = inW.Close()
			select {
			case got := <-code:
				if got != tt.wantCode {
					t.Errorf("exit code %d, want %d; stderr: %s", got, tt.wantCode, errOut.String())
				}
			case <-time.After(brokerStartTimeout):
				t.Fatal("runBroker did not return after its input closed")
			}
			if tt.wantErr != "" && !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("stderr %q, want it to contain %q", errOut.String(), tt.wantErr)
			}
		})
	}
}

// TestSeparateBrokerStoresTasks re-executes this binary as a broker, as the
// SeparateBroker benchmarks do, and stores one task through it.
func TestSeparateBrokerStoresTasks(t *testing.T) {
	url := startBroker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	bs, err := bus.Open(ctx, configs.NATS{URL: url, PublishTimeout: 5 * time.Second}, zap.NewNop())
	if err != nil {
		t.Fatalf("open bus on the child broker %s: %v", url, err)
	}
	defer func() { _ = bs.Close(context.Background()) }()
	batch := bs.NewBatch()
	if err := batch.Add(ctx, &nats.Msg{Subject: "tasks.child", Data: []byte(`{"id":1}`)}); err != nil {
		t.Fatal(err)
	}
	res, err := batch.Wait(ctx)
	if err != nil {
		t.Fatalf("wait for the ack from the child broker: %v", err)
	}
	if res.Published != 1 {
		t.Errorf("published %d, want 1", res.Published)
	}
}
