// Package natstest starts a real, embedded nats-server with JetStream for
// tests, the way nats-server's own RunServer does: file storage in
// t.TempDir(), loopback, an ephemeral port, shut down by t.Cleanup.
package natstest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Start runs a JetStream-enabled server on 127.0.0.1 at a free port.
func Start(t testing.TB) *server.Server {
	t.Helper()
	return Run(t, server.Options{})
}

// Run is Start with opts for what a test needs more (credentials, a
// cluster, a given store or port): unset, Host is 127.0.0.1, Port a free
// one and StoreDir a t.TempDir(); JetStream is always on, logs and signal
// handlers always off.
func Run(t testing.TB, opts server.Options) *server.Server {
	t.Helper()
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if opts.Port == 0 {
		opts.Port = server.RANDOM_PORT
	}
	if opts.StoreDir == "" {
		opts.StoreDir = t.TempDir()
	}
	opts.JetStream, opts.NoLog, opts.NoSigs = true, true, true
	s, err := server.NewServer(&opts)
	if err != nil {
		t.Fatalf("natstest: new server: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		t.Fatalf("natstest: server %s not ready within 10s", s.Name())
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// Connect returns a connection and a JetStream handle to s, closed by t.Cleanup.
func Connect(t testing.TB, s *server.Server) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatalf("natstest: connect: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("natstest: jetstream: %v", err)
	}
	return nc, js
}

// Read waits until want messages are stored on subject in stream and
// returns the first want, in order, read by a fresh ordered consumer; it
// fails t when they are not there within 20s.
func Read(t testing.TB, js jetstream.JetStream, stream, subject string, want int) []jetstream.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		t.Fatalf("natstest: consumer on %s in %s: %v", subject, stream, err)
	}
	var out []jetstream.Msg
	for len(out) < want {
		if ctx.Err() != nil {
			t.Fatalf("natstest: %d of %d messages on %s in %s within 20s", len(out), want, subject, stream)
		}
		batch, err := c.Fetch(want-len(out), jetstream.FetchMaxWait(500*time.Millisecond))
		if err != nil {
			t.Fatalf("natstest: fetch %s in %s: %v", subject, stream, err)
		}
		for m := range batch.Messages() {
			out = append(out, m)
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			t.Fatalf("natstest: fetch %s in %s: %v", subject, stream, err)
		}
	}
	return out
}

// ReadJSON is Read with each message's data decoded as a T.
func ReadJSON[T any](t testing.TB, js jetstream.JetStream, stream, subject string, want int) []T {
	t.Helper()
	var out []T
	for _, m := range Read(t, js, stream, subject, want) {
		var v T
		if err := json.Unmarshal(m.Data(), &v); err != nil {
			t.Fatalf("natstest: message %d on %s is not the JSON of a %T: %v", len(out), subject, v, err)
		}
		out = append(out, v)
	}
	return out
}
