package test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// topologyConfig is the fleet's config on loopback: the compose file's
// nats and stream settings (deploy/hookgate/hookgate.yaml) with a webhook
// whose tasks a route delivers to a receiver.
func topologyConfig(natsURLs []string, receiver string) string {
	return `
server: {listen: "127.0.0.1:0", shutdown_timeout: 10s}
admin: {listen: ""}
log: {level: info, format: json}
nats:
  url: "` + strings.Join(natsURLs, ",") + `"
  token: ${NATS_TOKEN}
  stream: {replicas: 3}
  publish_timeout: 2s
webhooks:
  - {name: Load, incoming: items, dedup_key: "header:X-Delivery"}
incoming:
  - {name: items, parser: json, pattern_to_items: items}
outgoing:
  - name: sink
    url: "` + receiver + `"
    allow_private_networks: true
    timeout: 2s
    concurrency: 8
    retry: {max_attempts: 50, initial_interval: 100ms, max_interval: 1s}
routes:
  - {name: all, incoming: items, outgoing: [sink]}
`
}

// topologyLoad is what the senders saw.
type topologyLoad struct {
	mu        sync.Mutex
	acked     map[string]string // X-Delivery of each request answered 200 → its X-Request-Id
	firstTry  map[string]bool   // the deliveries answered 200 at the first attempt
	statuses  map[int]int       // answers by status, retries included
	noAnswer  int               // connection refused or reset: the gateway was going away
	abandoned int               // deliveries not answered 200 when the load ended
	done      atomic.Int64      // deliveries answered 200
}

// SPEC §10 and §13: the compose topology on loopback. Three nats-server
// processes run deploy/nats/*.conf as one JetStream cluster; two `hookgate
// serve` store every task on all three (replicas 3) and share the route's
// durable consumer. Four senders post to both gateways; a third of the
// way in, the node leading the task stream is killed (SIGKILL), two
// thirds in, one hookgate is stopped (SIGTERM) and the senders carry on
// with the other, as a load balancer would. Every task of every request
// answered 200 is stored, under the request id that answer carried, and
// delivered at least once. Answers other than 200 (503 while the stream
// elects a leader) are allowed: the sender retries those.
func TestTopologyLosesNoAcknowledgedTaskWhenANATSNodeAndAHookgateGo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three nats-server and two hookgate processes (about 30s)")
	}
	const (
		token           = "topology-token"
		senders         = 4
		perSender       = 150
		itemsPerRequest = 2
		total           = senders * perSender
	)
	cluster := startNATSCluster(t, buildNATSServer(t), token)
	var urls []string
	for _, n := range cluster {
		urls = append(urls, strings.Replace(n.ClientURL, token+"@", "", 1))
	}
	rcv := newCountingReceiver(t)
	dir := writeConfig(t, map[string]string{"hookgate.yaml": topologyConfig(urls, rcv.URL)})
	gateways := []*instance{start(t, dir, "NATS_TOKEN="+token), start(t, dir, "NATS_TOKEN="+token)}
	var down atomic.Bool // gateways[1] is stopped: the load balancer sends everything to gateways[0]

	load := &topologyLoad{acked: map[string]string{}, firstTry: map[string]bool{}, statuses: map[int]int{}}
	client := &http.Client{Timeout: 15 * time.Second}
	// post tries a delivery once; it returns how long to wait before the
	// next try, or 0 when it was answered 200.
	post := func(gw *instance, delivery string, attempt int) time.Duration {
		var items []string
		for i := range itemsPerRequest {
			items = append(items, fmt.Sprintf(`{"d":%q,"i":%d}`, delivery, i))
		}
		req, _ := http.NewRequest(http.MethodPost, gw.URL+"/webhooks/load",
			bytes.NewReader([]byte(`{"items":[`+strings.Join(items, ",")+`]}`)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Delivery", delivery)
		resp, err := client.Do(req)
		load.mu.Lock()
		defer load.mu.Unlock()
		if err != nil {
			load.noAnswer++
			return 100 * time.Millisecond // the load balancer notices at once
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		load.statuses[resp.StatusCode]++
		if resp.StatusCode != http.StatusOK {
			// As a sender does: wait what Retry-After says, then try again.
			after, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			return time.Duration(max(after, 1)) * time.Second
		}
		load.acked[delivery] = resp.Header.Get("X-Request-Id")
		load.firstTry[delivery] = attempt == 0
		load.done.Add(1)
		return 0
	}
	// The senders stop at loadEnd whatever happened, so that a fleet that
	// does not recover fails the test instead of hanging it.
	began := time.Now()
	loadEnd := began.Add(60 * time.Second)
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for r := range perSender {
				delivery := fmt.Sprintf("s%d-r%d", s, r)
				for attempt := 0; ; attempt++ {
					if time.Now().After(loadEnd) {
						load.mu.Lock()
						load.abandoned++
						load.mu.Unlock()
						break
					}
					gw := gateways[(s+r+attempt)%2]
					if down.Load() {
						gw = gateways[0]
					}
					wait := post(gw, delivery, attempt)
					if wait == 0 {
						break
					}
					time.Sleep(min(wait, time.Until(loadEnd)))
				}
			}
		})
	}

	waitDone := func(n int64) {
		for load.done.Load() < n && time.Now().Before(loadEnd) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitDone(total / 3)
	leader := streamLeader(t, cluster[0].ClientURL, "HOOKGATE_TASKS")
	var survivor *natsNode
	for _, n := range cluster {
		if n.Name == leader {
			n.kill(t)
		} else {
			survivor = n
		}
	}
	if survivor == nil || survivor.Name == leader {
		t.Fatalf("the task stream's leader %q is none of the nodes", leader)
	}
	killedAt, killedAfter := load.done.Load(), time.Since(began)

	waitDone(2 * total / 3)
	down.Store(true)
	stoppedAt, stoppedAfter := load.done.Load(), time.Since(began)
	gateways[1].stop() // SIGTERM: asserts a clean exit with requests in flight
	wg.Wait()
	loadTook := time.Since(began)

	// Every task has been delivered or is still retrying: wait until the
	// route's consumer has nothing pending, on the nodes left.
	waitSettled(t, survivor.ClientURL, 40*time.Second)
	settledAfter := time.Since(began)
	stored := readTasksByMsgID(t, survivor.ClientURL, "tasks.items")

	load.mu.Lock()
	defer load.mu.Unlock()
	if len(load.acked) < total/3 {
		t.Fatalf("only %d of %d requests answered 200 (%v, %d unanswered); the test needs load", len(load.acked), total, load.statuses, load.noAnswer)
	}
	lost, undelivered, duplicates, redelivered := 0, 0, 0, 0
	for delivery, requestID := range load.acked {
		for i := range itemsPerRequest {
			msgID := fmt.Sprintf("load/items/%s/%d", delivery, i)
			copies := stored[msgID]
			if len(copies) == 0 {
				lost++
				if lost <= 5 {
					t.Errorf("task %s of request %s was answered 200 but is not stored", msgID, requestID)
				}
				continue
			}
			if len(copies) > 1 {
				t.Errorf("task %s is stored %d times", msgID, len(copies))
			}
			// A retry's tasks are de-duplicated: they keep the request id
			// of the attempt that stored them.
			if got := copies[0].Header.Get("ce-requestid"); load.firstTry[delivery] && got != requestID {
				t.Errorf("task %s is stored with request id %s, the 200 said %s", msgID, got, requestID)
			}
			switch n := rcv.count(copies[0].Header.Get("ce-id")); {
			case n == 0:
				undelivered++
				if undelivered <= 5 {
					t.Errorf("task %s (%s) is stored but was never delivered", msgID, copies[0].Header.Get("ce-id"))
				}
			case n > 1:
				duplicates++
				redelivered += n - 1
			}
		}
	}
	if lost > 0 || undelivered > 0 {
		t.Errorf("%d acknowledged tasks lost, %d stored and not delivered", lost, undelivered)
	}
	if dl := streamState(t, survivor.ClientURL, "HOOKGATE_DLQ", "dlq.>").Msgs; dl != 0 {
		t.Errorf("%d dead letters; the receiver always answers 200", dl)
	}
	if load.abandoned > 0 {
		t.Errorf("%d deliveries were not answered 200 within %s: the fleet did not recover from the failures", load.abandoned, loadEnd.Sub(began))
	}
	t.Logf("%d deliveries of %d items from %d senders to two gateways; killed NATS node %s (the task stream's leader) after %d were answered 200, stopped one hookgate after %d",
		total, itemsPerRequest, senders, leader, killedAt, stoppedAt)
	t.Logf("answers by status %v (retries included), %d tries without an answer (the stopped gateway), %d deliveries answered 200 on the first try",
		load.statuses, load.noAnswer, countTrue(load.firstTry))
	t.Logf("%d tasks stored, %d acknowledged, all stored once and delivered; %d deliveries at the receiver, %d tasks delivered more than once (%d extra deliveries)",
		len(stored), len(load.acked)*itemsPerRequest, rcv.total(), duplicates, redelivered)
	t.Logf("timeline: node killed at %s, hookgate stopped at %s, load over at %s, route settled at %s",
		killedAfter.Round(time.Millisecond), stoppedAfter.Round(time.Millisecond), loadTook.Round(time.Millisecond), settledAfter.Round(time.Millisecond))
}

func countTrue(m map[string]bool) int {
	n := 0
	for _, v := range m {
		if v {
			n++
		}
	}
	return n
}
