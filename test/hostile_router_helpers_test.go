package test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// awaitDeadLetter waits until subject holds a dead letter, failing at once
// when the process exits: a reader on the embedded server of a dead process
// would retry forever instead of timing out.
func awaitDeadLetter(t *testing.T, hg *instance, subject string, within time.Duration) {
	t.Helper()
	nc, js := connectJS(t, hg.NATSURL)
	defer nc.Close()
	deadline := time.Now().Add(within)
	for {
		select {
		case <-hg.exited:
			t.Fatalf("hookgate exited (%v) before a dead letter on %s:\n%s", hg.exitErr, subject, tailLog(hg))
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if s, err := js.Stream(ctx, "HOOKGATE_DLQ"); err == nil {
			if info, err := s.Info(ctx, jetstream.WithSubjectFilter(subject)); err == nil && len(info.State.Subjects) > 0 {
				cancel()
				return
			}
		}
		cancel()
		if time.Now().After(deadline) {
			t.Fatalf("no dead letter on %s within %s:\n%s", subject, within, tailLog(hg))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tailLog is the last 4KiB of the process log, for failure messages.
func tailLog(hg *instance) string {
	s := hg.log.String()
	return s[max(0, len(s)-4096):]
}

// bigHeaderTask is a task as the gateway writes one plus a header filled
// so that the task's headers take total bytes on the wire.
func bigHeaderTask(subject, body, header string, total int) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Data = []byte(body)
	for k, v := range map[string]string{
		"ce-specversion": "1.0", "ce-id": "req-big-orders-0", "ce-source": "/webhooks/orders",
		"ce-type": "hookgate.orders", "ce-time": "2025-01-01T00:00:00Z", "ce-webhook": "orders",
		"ce-incoming": "orders", "ce-requestid": "req-big", "content-type": "application/json",
		nats.MsgIdHdr: "orders/orders/req-big/0",
	} {
		m.Header.Set(k, v)
	}
	m.Header.Set(header, "")
	n := len("NATS/1.0\r\n") + len("\r\n")
	for k, vs := range m.Header {
		for _, v := range vs {
			n += len(k) + len(": ") + len(v) + len("\r\n")
		}
	}
	m.Header.Set(header, strings.Repeat("b", total-n))
	return m
}

// publishRaw stores m in the tasks stream as any NATS client could.
func publishRaw(t *testing.T, natsURL string, m *nats.Msg) {
	t.Helper()
	nc, js := connectJS(t, natsURL)
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.PublishMsg(ctx, m); err != nil {
		t.Fatalf("publish to %s: %v", m.Subject, err)
	}
}
