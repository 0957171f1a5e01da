package test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const faultConfig = baseConfig + `
webhooks:
  - {name: Load, incoming: items, dedup_key: "header:X-Delivery"}
incoming:
  - {name: items, parser: json, pattern_to_items: items}
`

// SPEC §8 "nothing acknowledged is lost": hookgate is killed (SIGKILL, no
// shutdown) while 8 senders post; after a restart on the same store every
// item of every request answered 200 is stored, each exactly once.
func TestKilledUnderLoadLosesNoAcknowledgedTask(t *testing.T) {
	const senders, itemsPerRequest = 8, 3
	cfg := writeConfig(t, map[string]string{"hookgate.yaml": faultConfig})
	store := "TEST_STORE_DIR=" + t.TempDir()
	hg := start(t, cfg, store)

	var (
		mu       sync.Mutex
		acked    []string // X-Delivery of every request answered 200
		answered atomic.Int64
	)
	client := &http.Client{Timeout: 5 * time.Second}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for r := 0; ; r++ {
				select {
				case <-stop:
					return
				default:
				}
				delivery := fmt.Sprintf("s%d-r%d", s, r)
				body := fmt.Sprintf(`{"items":[{"d":%q,"i":0},{"d":%q,"i":1},{"d":%q,"i":2}]}`, delivery, delivery, delivery)
				req, _ := http.NewRequest(http.MethodPost, hg.URL+"/webhooks/load", bytes.NewReader([]byte(body)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Delivery", delivery)
				resp, err := client.Do(req)
				if err != nil {
					return // the process is gone
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					mu.Lock()
					acked = append(acked, delivery)
					mu.Unlock()
				}
				answered.Add(1)
			}
		})
	}
	// Kill once the senders are well under way, with requests in flight.
	deadline := time.Now().Add(10 * time.Second)
	for answered.Load() < 300 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := hg.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-hg.exited
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(acked) < 100 {
		t.Fatalf("only %d requests were answered 200 before the kill; the test needs load", len(acked))
	}

	again := start(t, cfg, store)
	stored := map[string]int{} // Nats-Msg-Id → copies
	for _, task := range storedTasks(t, again.NATSURL, "tasks.items") {
		stored[task.Header.Get("Nats-Msg-Id")]++
	}
	lost := 0
	for _, d := range acked {
		for i := range itemsPerRequest {
			id := fmt.Sprintf("load/items/%s/%d", d, i)
			switch n := stored[id]; {
			case n == 0:
				lost++
				if lost <= 5 {
					t.Errorf("acknowledged task %s is not stored", id)
				}
			case n > 1:
				t.Errorf("task %s is stored %d times", id, n)
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d tasks of %d acknowledged requests lost", lost, len(acked))
	}
	t.Logf("%d requests acknowledged before SIGKILL, %d tasks stored after restart", len(acked), len(stored))
}
