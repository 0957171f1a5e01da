package test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// task is one stored task as a subscriber reads it.
type task struct {
	Subject string
	Header  nats.Header
	Data    []byte
}

// storedTasks reads every task stored under subject in the tasks stream,
// in order, from a fresh ordered consumer.
func storedTasks(t *testing.T, natsURL, subject string) []task {
	t.Helper()
	nc, err := nats.Connect(natsURL, nats.Timeout(10*time.Second))
	if err != nil {
		t.Fatalf("connect %s: %v", natsURL, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := js.Stream(ctx, "HOOKGATE_TASKS")
	if err != nil {
		t.Fatalf("stream HOOKGATE_TASKS: %v", err)
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := int(info.NumPending)
	var out []task
	for len(out) < want {
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d tasks on %s within 10s", len(out), want, subject)
		}
		batch, err := cons.Fetch(want-len(out), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			out = append(out, task{Subject: m.Subject(), Header: m.Headers(), Data: m.Data()})
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			t.Fatal(err)
		}
	}
	return out
}
