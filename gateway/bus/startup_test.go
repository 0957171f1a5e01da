package bus

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/test/natstest"
)

// freePort is a loopback port nothing listens on (yet).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// SPEC §13: a Bus started before its NATS is not ready and refuses
// publishes with ErrUnavailable, logs each failed attempt, and becomes
// ready, streams made, once the server is there.
func TestStartBeforeNATSConnectsWhenItComes(t *testing.T) {
	port := freePort(t)
	core, logs := observer.New(zapcore.InfoLevel)
	b, err := Start(testContext(t), configs.NATS{URL: fmt.Sprintf("nats://127.0.0.1:%d", port)}, zap.New(core))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { closeBus(t, b) })
	if b.Ready() {
		t.Fatal("Ready before any NATS server runs")
	}
	if _, err := publishBatch(testContext(t), b, task("tasks.early", "", 0, []byte(`{}`))); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("publish before NATS = %v, want ErrUnavailable", err)
	}
	eventually(t, "two failed attempts logged", func() bool {
		return logs.FilterMessage("nats not reachable; retrying").Len() >= 2
	})

	natstest.Run(t, server.Options{Port: port})
	if err := b.WaitReady(testContext(t)); err != nil {
		t.Fatalf("WaitReady after the server started: %v", err)
	}
	if !b.Ready() {
		t.Fatal("not Ready after WaitReady")
	}
	if res, err := publishBatch(testContext(t), b, task("tasks.late", "", 0, []byte(`{}`))); err != nil || res.Published != 1 {
		t.Fatalf("publish once connected = %+v, %v; want 1 published", res, err)
	}
}

// A server that comes up refusing the credentials ends the wait with the
// refusal, without the secret; connect_timeout ends it naming the key.
func TestWaitReadyFails(t *testing.T) {
	const token = "startup-s3cret"
	t.Run("credentials refused once the server is up", func(t *testing.T) {
		port := freePort(t)
		core, logs := observer.New(zapcore.InfoLevel)
		b, err := Start(testContext(t), configs.NATS{URL: fmt.Sprintf("nats://127.0.0.1:%d", port), Token: token}, zap.New(core))
		if err != nil {
			t.Fatalf("Start: %v", err)
		}
		t.Cleanup(func() { closeBus(t, b) })
		eventually(t, "a failed attempt on the closed port", func() bool {
			return logs.FilterMessage("nats not reachable; retrying").Len() >= 1
		})
		natstest.Run(t, server.Options{Port: port, Authorization: "other"})
		err = b.WaitReady(testContext(t))
		if !errors.Is(err, ErrUnavailable) || !strings.Contains(strings.ToLower(err.Error()), "authorization violation") {
			t.Fatalf("WaitReady = %v, want ErrUnavailable naming the authorization violation", err)
		}
		if strings.Contains(err.Error(), token) {
			t.Errorf("error shows the token: %v", err)
		}
	})
	t.Run("connect_timeout", func(t *testing.T) {
		cfg := configs.NATS{URL: fmt.Sprintf("nats://127.0.0.1:%d", freePort(t)), ConnectTimeout: 1500 * time.Millisecond}
		_, err := Open(testContext(t), cfg, testLogger(t))
		if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "nats.connect_timeout 1.5s") {
			t.Fatalf("Open = %v, want ErrUnavailable naming nats.connect_timeout 1.5s", err)
		}
	})
}

func TestReconnectDelayBacksOffToFiveSeconds(t *testing.T) {
	var got []time.Duration
	for round := 1; round <= 6; round++ {
		got = append(got, reconnectDelay(round))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("delays %v, want %v", got, want)
	}
}
