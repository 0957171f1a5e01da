package bus

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/test/syncbuf"
	"github.com/nats-io/nats.go"
)

func TestTailPrintsPublishedTasks(t *testing.T) {
	b := openBus(t, embeddedConfig(t, "127.0.0.1:0"))
	// Tail runs on its own connection, as `hookgate tail --nats URL` does.
	nc, err := nats.Connect(b.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()

	var out syncbuf.Buffer // written by Tail
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	subsBefore := b.srv.NumSubscriptions()
	go func() { done <- Tail(ctx, nc, "tasks.>", &out) }()
	eventually(t, "tail to subscribe", func() bool { return b.srv.NumSubscriptions() > subsBefore })

	if err := b.Conn().Publish("other.subject", []byte("not tailed")); err != nil {
		t.Fatal(err)
	}
	m := task("tasks.orders", "wh/orders/req/0", 0, []byte(`{"order":1}`))
	m.Header.Add("x-multi", "b")
	m.Header.Add("x-multi", "a")
	if _, err := publish(t, b, m, task("tasks.orders", "", 1, []byte("line1\nline2"))); err != nil {
		t.Fatalf("publish: %v", err)
	}
	want := "tasks.orders\n" +
		"Nats-Msg-Id: wh/orders/req/0\n" +
		"ce-id: req-1-incoming-0\n" +
		"ce-itemindex: 0\n" +
		"ce-specversion: 1.0\n" +
		"ce-type: hookgate.test\n" +
		"content-type: application/json\n" +
		"x-multi: b\n" +
		"x-multi: a\n" +
		"\n" +
		`{"order":1}` + "\n\n" +
		"tasks.orders\n" +
		"ce-id: req-1-incoming-1\n" +
		"ce-itemindex: 1\n" +
		"ce-specversion: 1.0\n" +
		"ce-type: hookgate.test\n" +
		"content-type: application/json\n" +
		"\n" +
		"line1\nline2\n\n"
	eventually(t, "both tasks printed", func() bool { return len(out.String()) >= len(want) })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Tail returned %v after its context ended, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Tail did not return after its context ended")
	}
	if got := out.String(); got != want {
		t.Errorf("Tail printed\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(out.String(), "not tailed") {
		t.Error("Tail printed a message outside its subject")
	}
}

func TestTailRejectsInvalidSubject(t *testing.T) {
	b := openBus(t, embeddedConfig(t, ""))
	err := Tail(context.Background(), b.Conn(), "tasks..bad", &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "tasks..bad") {
		t.Fatalf("Tail = %v, want an error naming the subject", err)
	}
}
