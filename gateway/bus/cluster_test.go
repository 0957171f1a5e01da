package bus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/test/natstest"
)

// freePorts returns n loopback ports free a moment ago: cluster routes
// must be known before the servers start.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = ln.Addr().(*net.TCPAddr).Port
		defer ln.Close()
	}
	return ports
}

// startCluster runs a three-node JetStream cluster on loopback.
func startCluster(t *testing.T) []*server.Server {
	t.Helper()
	routes := freePorts(t, 3)
	var urls []string
	for _, p := range routes {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", p))
	}
	servers := make([]*server.Server, 3)
	for i := range servers {
		// Ready means listening: the routes connect while the others start.
		servers[i] = natstest.Run(t, server.Options{
			ServerName: fmt.Sprintf("n%d", i),
			Cluster:    server.ClusterOpts{Name: "hookgate-test", Host: "127.0.0.1", Port: routes[i]},
			Routes:     server.RoutesFromStr(strings.Join(urls, ",")),
		})
	}
	return servers
}

// waitForMetaLeader returns once the cluster's JetStream answers API
// calls: until its meta leader is elected, creating a stream fails.
func waitForMetaLeader(t *testing.T, s *server.Server) {
	t.Helper()
	_, js := natstest.Connect(t, s)
	eventually(t, "a JetStream meta leader", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		_, err := js.AccountInfo(ctx)
		return err == nil
	})
}

// SPEC §10: with stream replicas 3, losing the node that leads the task
// stream loses no acknowledged task. Requests during the election may fail
// (503, the sender retries); every task acknowledged before, during and
// after it is on the two nodes left.
func TestLosingTheStreamLeaderOfThreeLosesNoAcknowledgedTask(t *testing.T) {
	servers := startCluster(t)
	var urls []string
	for _, s := range servers {
		urls = append(urls, s.ClientURL())
	}
	cfg := configs.NATS{URL: strings.Join(urls, ","), PublishTimeout: 2 * time.Second,
		Stream: configs.Stream{Name: "HOOKGATE_TASKS", Replicas: 3}}
	waitForMetaLeader(t, servers[0])
	b := openBus(t, cfg)

	var (
		mu              sync.Mutex
		acked           []string
		failed, batches int
	)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for r := 0; ; r++ {
			select {
			case <-stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			bt := b.NewBatch()
			var ids []string
			for i := range 5 {
				id := fmt.Sprintf("r%d/%d", r, i)
				if bt.Add(ctx, task("tasks.cluster", id, i, []byte(`{}`))) == nil {
					ids = append(ids, id)
				}
			}
			_, err := bt.Wait(ctx)
			cancel()
			mu.Lock()
			batches++
			if err == nil && len(ids) == 5 {
				acked = append(acked, ids...)
			} else {
				failed++
			}
			mu.Unlock()
			if err != nil {
				time.Sleep(50 * time.Millisecond) // as a sender backs off after a 503
			}
		}
	}()
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	eventually(t, "tasks acknowledged before the failure", func() bool { return count() >= 250 })

	st, err := b.JetStream().Stream(testContext(t), "HOOKGATE_TASKS")
	if err != nil {
		t.Fatal(err)
	}
	leader := st.CachedInfo().Cluster.Leader
	var survivor *server.Server
	for _, s := range servers {
		if s.Name() == leader {
			s.Shutdown() // the stream leader is gone; the other two elect another
		} else {
			survivor = s
		}
	}
	before := count()
	eventually(t, "tasks acknowledged after the failure", func() bool { return count() >= before+250 })
	close(stop)
	<-done

	_, js := natstest.Connect(t, survivor)
	ctx := testContext(t)
	cons, err := js.OrderedConsumer(ctx, "HOOKGATE_TASKS", jetstream.OrderedConsumerConfig{FilterSubjects: []string{"tasks.cluster"}})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	// Just after an election the consumer's pull may find no responder yet
	// (its leader is still being placed): that is asked again, a bounded
	// number of times, rather than read as the end of the stream.
	for retries := 0; ; {
		batch, err := cons.Fetch(500, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			stored[m.Headers().Get(nats.MsgIdHdr)] = true
			n++
		}
		err = batch.Error()
		if errors.Is(err, nats.ErrNoResponders) && retries < 20 {
			retries++
			time.Sleep(250 * time.Millisecond) // the election, not an ordering of ours
			continue
		}
		if err != nil && !errors.Is(err, nats.ErrTimeout) {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	lost := 0
	for _, id := range acked {
		if !stored[id] {
			lost++
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged tasks are not on the surviving nodes", lost, len(acked))
	}
	t.Logf("leader %s shut down; %d tasks acknowledged in %d batches (%d failed, the sender would retry them), %d stored",
		leader, len(acked), batches, failed, len(stored))
}
