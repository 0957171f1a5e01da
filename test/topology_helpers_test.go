package test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate/test/syncbuf"
)

// natsNode is one nats-server process of a loopback cluster.
type natsNode struct {
	Name      string // server_name from its config file
	ClientURL string // nats://TOKEN@127.0.0.1:PORT
	cmd       *exec.Cmd
	log       *syncbuf.Buffer
	exited    chan struct{}
}

// buildNATSServer compiles nats-server from the module version go.mod
// pins, so the cluster runs the same server the embedded mode does.
func buildNATSServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "nats-server")
	build := exec.Command("go", "build", "-o", bin, "github.com/nats-io/nats-server/v2")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build nats-server: %v\n%s", err, out)
	}
	return bin
}

// loopbackPorts returns n loopback ports free a moment ago: the routes of a
// cluster must be known before its servers start.
func loopbackPorts(t *testing.T, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return ports
}

// startNATSCluster runs deploy/nats/*.conf, the compose cluster's own
// files, as processes on loopback: the command line moves each server's
// client, cluster and monitoring ports to free ones, its routes to those
// cluster ports and its store to a t.TempDir(). Clients present token. It
// returns once the cluster's JetStream has a meta leader.
func startNATSCluster(t *testing.T, bin, token string) []*natsNode {
	t.Helper()
	confs, err := filepath.Glob(filepath.Join(repoRoot, "deploy", "nats", "*.conf"))
	if err != nil || len(confs) != 3 {
		t.Fatalf("deploy/nats: %v %v, want three server configs", confs, err)
	}
	ports := loopbackPorts(t, 3*len(confs))
	var routes []string
	for i := range confs {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[3*i+1]))
	}
	nodes := make([]*natsNode, len(confs))
	for i, conf := range confs {
		client, cluster, monitor := ports[3*i], ports[3*i+1], ports[3*i+2]
		n := &natsNode{
			Name:      strings.TrimSuffix(filepath.Base(conf), ".conf"),
			ClientURL: fmt.Sprintf("nats://%s@127.0.0.1:%d", token, client),
			log:       &syncbuf.Buffer{},
			exited:    make(chan struct{}),
		}
		n.cmd = exec.Command(bin, "--config", conf,
			"--addr", "127.0.0.1", "--port", fmt.Sprint(client), "--http_port", fmt.Sprint(monitor),
			"--cluster", fmt.Sprintf("nats://127.0.0.1:%d", cluster), "--routes", strings.Join(routes, ","),
			"--store_dir", t.TempDir())
		n.cmd.Env = append(os.Environ(), "NATS_TOKEN="+token)
		n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
		if err := n.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			_ = n.cmd.Wait()
			close(n.exited)
		}()
		t.Cleanup(n.stop)
		nodes[i] = n
	}
	waitForJetStream(t, nodes[0])
	return nodes
}

// stop ends the process: SIGTERM, then SIGKILL when it lingers.
func (n *natsNode) stop() {
	select {
	case <-n.exited:
		return
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(15 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.exited
	}
}

// kill ends the process at once, as a power cut or OOM kill would.
func (n *natsNode) kill(t *testing.T) {
	t.Helper()
	if err := n.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-n.exited
}

// waitForJetStream waits until n answers JetStream API calls: until the
// cluster elects its meta leader, creating a stream fails.
func waitForJetStream(t *testing.T, n *natsNode) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		nc, err := nats.Connect(n.ClientURL, nats.Timeout(2*time.Second))
		if err == nil {
			js, _ := jetstream.New(nc)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_, err = js.AccountInfo(ctx)
			cancel()
			nc.Close()
			if err == nil {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no JetStream meta leader within 30s: %v\n%s", err, n.log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// streamLeader names the node that leads stream now.
func streamLeader(t *testing.T, natsURL, stream string) string {
	t.Helper()
	nc, js := connectJS(t, natsURL)
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	if s.CachedInfo().Cluster == nil {
		t.Fatalf("stream %s has no cluster info: not replicated", stream)
	}
	return s.CachedInfo().Cluster.Leader
}

// readTasksByMsgID reads every task on subject in the tasks stream, keyed
// by Nats-Msg-Id. Right after an election a pull may find no responder
// yet (the consumer's leader is still being placed): that is asked again,
// a bounded number of times, rather than read as the end of the stream.
func readTasksByMsgID(t *testing.T, natsURL, subject string) map[string][]task {
	t.Helper()
	nc, js := connectJS(t, natsURL)
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := js.OrderedConsumer(ctx, "HOOKGATE_TASKS", jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		t.Fatalf("consumer on %s: %v", subject, err)
	}
	out := map[string][]task{}
	for retries := 0; ; {
		batch, err := c.Fetch(500, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatalf("fetch %s: %v", subject, err)
		}
		n := 0
		for m := range batch.Messages() {
			id := m.Headers().Get(nats.MsgIdHdr)
			out[id] = append(out[id], task{Subject: m.Subject(), Header: m.Headers(), Data: m.Data()})
			n++
		}
		err = batch.Error()
		if errors.Is(err, nats.ErrNoResponders) && retries < 20 {
			retries++
			time.Sleep(250 * time.Millisecond) // the election, not an ordering of ours
			continue
		}
		if err != nil && !errors.Is(err, nats.ErrTimeout) {
			t.Fatalf("fetch %s: %v", subject, err)
		}
		if n == 0 {
			return out
		}
	}
}

// countingReceiver is an outgoing system that answers 200 to everything
// and counts the deliveries of each task by Idempotency-Key (the ce-id).
type countingReceiver struct {
	*httptest.Server
	mu   sync.Mutex
	seen map[string]int
}

func newCountingReceiver(t *testing.T) *countingReceiver {
	t.Helper()
	r := &countingReceiver{seen: map[string]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.seen[req.Header.Get("Idempotency-Key")]++
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(r.Close)
	return r
}

// count is how many times the task with ce-id id was delivered.
func (r *countingReceiver) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[id]
}

// total is every delivery so far.
func (r *countingReceiver) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.seen {
		n += c
	}
	return n
}
