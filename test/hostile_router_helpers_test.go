package test

import (
	"context"
	"testing"
	"time"

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
