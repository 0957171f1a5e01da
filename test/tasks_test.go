package test

import (
	"context"
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
// in order: as many as the stream counts on subject now.
func storedTasks(t *testing.T, natsURL, subject string) []task {
	t.Helper()
	nc, js := connectJS(t, natsURL)
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stream, err := js.Stream(ctx, "HOOKGATE_TASKS")
	if err != nil {
		t.Fatalf("stream HOOKGATE_TASKS: %v", err)
	}
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		t.Fatalf("stream HOOKGATE_TASKS info on %s: %v", subject, err)
	}
	stored := 0
	for _, n := range info.State.Subjects {
		stored += int(n)
	}
	return readStream(t, natsURL, "HOOKGATE_TASKS", subject, stored)
}
