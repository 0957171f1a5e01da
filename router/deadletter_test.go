package router

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate/gateway/bus"
)

// encodedHeaderLen is what h takes on the wire (NATS/1.0 line, "k: v\r\n"
// per value, a blank line): what JetStream holds to 64KiB.
func encodedHeaderLen(h nats.Header) int {
	n := len("NATS/1.0\r\n") + len("\r\n")
	for k, vs := range h {
		for _, v := range vs {
			n += len(k) + len(": ") + len(v) + len("\r\n")
		}
	}
	return n
}

// bigTask is a task as publishTask makes it plus one header, sized so that
// the task's headers come to want bytes.
func bigTask(t *testing.T, subject, id, body, header string, want int) *nats.Msg {
	t.Helper()
	m := taskMsg(subject, id, body)
	m.Header.Set(header, "")
	m.Header.Set(header, strings.Repeat("b", want-encodedHeaderLen(m.Header)))
	if n := encodedHeaderLen(m.Header); n != want {
		t.Fatalf("task headers of %d bytes, want %d", n, want)
	}
	return m
}

// nextTaskGoesThrough asserts that the ordered pair r → o delivers the
// next task after a dead one, leaving deadLetters in the DLQ.
func nextTaskGoesThrough(t *testing.T, js jetstream.JetStream, rc *receiver, deadLetters uint64) {
	t.Helper()
	publishTask(t, js, "tasks.orders", "req-orders-1", `{"status":"ok"}`)
	if a := rc.wait(t, 1)[0]; a.body != `{"status":"ok"}` {
		t.Errorf("next task delivered as %q", a.body)
	}
	settled(t, js, "r", "o")
	if n := dlqCount(t, js); n != deadLetters {
		t.Errorf("%d dead letters, want %d", n, deadLetters)
	}
}

// dlqCount is how many dead letters HOOKGATE_DLQ holds.
func dlqCount(t *testing.T, js jetstream.JetStream) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, dlqStream)
	if err != nil {
		t.Fatal(err)
	}
	return s.CachedInfo().State.Msgs
}

// SPEC §6, §11: a task whose headers are just under JetStream's 64KiB
// (a forwarded header a sender filled) gets a dead letter all the same.
// With the hookgate-* headers added the full one is refused
// (err_code=10097) and was retried forever, holding back the ordered pair;
// now a reduced dead letter is stored, naming or shortening what it left
// out, the task is acked and the next one delivered.
func TestADeadLetterPastTheHeaderLimitIsStoredReduced(t *testing.T) {
	const unreadable = "not json"
	for _, tc := range []struct {
		name, header string
		dropped      string // hookgate-dropped-headers
		kept         string // the header's value on the dead letter
	}{
		{name: "a forwarded header is dropped", header: "X-Big", dropped: "X-Big"},
		{name: "a CloudEvents extension is shortened", header: "ce-big", kept: strings.Repeat("b", reducedValueMax) + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			js := startJS(t)
			rc := newReceiver(t, nil)
			out := testOutgoing("o", rc.URL)
			out.Ordered = true
			startRouter(t, testConfig(withFilter, out), js)

			// 100 bytes of room: fewer than the hookgate-* headers take.
			task := bigTask(t, "tasks.orders", "req-orders-0", unreadable, tc.header, 1<<16-1-100)
			publishMsg(t, js, task)

			dl := nextDeadLetter(t, js, bus.DLQSubject("r", "o"))
			h := dl.Headers()
			if string(dl.Data()) != unreadable {
				t.Errorf("dead letter body %q, want the task's %q", dl.Data(), unreadable)
			}
			if got := h.Get(bus.HeaderDroppedHeaders); got != tc.dropped {
				t.Errorf("%s = %q, want %q", bus.HeaderDroppedHeaders, got, tc.dropped)
			}
			if got := h.Get(tc.header); got != tc.kept {
				t.Errorf("dead letter %s of %d bytes, want %d", tc.header, len(got), len(tc.kept))
			}
			for k, v := range task.Header {
				if k == tc.header || k == nats.MsgIdHdr {
					continue
				}
				if got := h.Get(k); got != v[0] {
					t.Errorf("dead letter %s = %q, want the task's %q", k, got, v[0])
				}
			}
			for k, want := range map[string]string{
				bus.HeaderError:     "filter: the task body is not valid JSON",
				bus.HeaderStatus:    "0",
				bus.HeaderAttempts:  "1",
				bus.HeaderRoute:     "r",
				bus.HeaderOutgoing:  "o",
				bus.HeaderOrigMsgID: "orders/orders/req-orders-0",
			} {
				if got := h.Get(k); !strings.HasPrefix(got, want) {
					t.Errorf("dead letter %s = %q, want %q", k, got, want)
				}
			}

			// Acked: the ordered pair goes on with the next task.
			nextTaskGoesThrough(t, js, rc, 1)
		})
	}
}

// A task whose body alone leaves no room for the hookgate-* headers within
// the max payload can have no dead letter, reduced or not: it is
// terminated rather than retried forever, and the ordered pair goes on.
func TestATaskNoDeadLetterCanHoldIsTerminated(t *testing.T) {
	js := startJS(t)
	rc := newReceiver(t, nil)
	out := testOutgoing("o", rc.URL)
	out.Ordered = true
	startRouter(t, testConfig(withFilter, out), js)

	task := bigTask(t, "tasks.orders", "req-orders-0", "", "ce-pad", 300)
	task.Data = []byte(strings.Repeat("x", int(js.Conn().MaxPayload())-300-50))
	publishMsg(t, js, task)

	nextTaskGoesThrough(t, js, rc, 0)
}

func TestDeadLetterPublishErrorsAreTransientOnlyWhenWaitingHelps(t *testing.T) {
	apiErr := func(code int, errCode jetstream.ErrorCode) error {
		return fmt.Errorf("nats: %w", &jetstream.APIError{Code: code, ErrorCode: errCode})
	}
	for _, tc := range []struct {
		name                string
		err                 error
		transient, tooLarge bool
	}{
		{"no ack in time", context.DeadlineExceeded, true, false},
		{"request timeout", nats.ErrTimeout, true, false},
		{"no stream listening", jetstream.ErrNoStreamResponse, true, false},
		{"connection closed", fmt.Errorf("publish: %w", nats.ErrConnectionClosed), true, false},
		{"reconnecting", nats.ErrConnectionReconnecting, true, false},
		{"JetStream temporarily unavailable", apiErr(503, 10008), true, false},
		{"storage full", apiErr(500, 10047), true, false},
		{"headers past 64KiB", apiErr(400, errCodeHeaderTooLarge), false, true},
		{"past the stream's max message size", apiErr(400, jetstream.JSErrCodeStreamMessageExceedsMaximum), false, true},
		{"past the server's max payload", nats.ErrMaxPayload, false, true},
		{"not permitted", nats.ErrPermissionViolation, false, false},
		{"any other refusal", apiErr(400, 10003), false, false},
		{"an unknown error", errors.New("boom"), false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := transientPublish(tc.err); got != tc.transient {
				t.Errorf("transientPublish(%v) = %v, want %v", tc.err, got, tc.transient)
			}
			if got := tooLargePublish(tc.err); got != tc.tooLarge {
				t.Errorf("tooLargePublish(%v) = %v, want %v", tc.err, got, tc.tooLarge)
			}
		})
	}
}
