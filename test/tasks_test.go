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
	stored := 0
	for _, n := range streamState(t, natsURL, "HOOKGATE_TASKS", subject).Subjects {
		stored += int(n)
	}
	return readStream(t, natsURL, "HOOKGATE_TASKS", subject, stored)
}

// streamState is the state of stream now, with its message count by
// subject for the subjects filter matches.
func streamState(t *testing.T, natsURL, stream, filter string) jetstream.StreamState {
	t.Helper()
	nc, js := connectJS(t, natsURL)
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		t.Fatalf("stream %s info on %s: %v", stream, filter, err)
	}
	return info.State
}
