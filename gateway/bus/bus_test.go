package bus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/test/natstest"
)

func TestOpenEmbedded(t *testing.T) {
	tests := []struct {
		name      string
		listen    string
		wantURL   bool
		wantMaxPL int64
	}{
		{"listening server accepts a second client", "127.0.0.1:0", true, 8 << 20},
		{"in-process server has no client url", "", false, 8 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := openBus(t, embeddedConfig(t, tt.listen))
			if !b.Ready() {
				t.Fatal("Ready() = false right after Open")
			}
			if got := b.MaxPayload(); got != tt.wantMaxPL {
				t.Errorf("MaxPayload() = %d, want %d", got, tt.wantMaxPL)
			}
			if got := b.ClientURL() != ""; got != tt.wantURL {
				t.Fatalf("ClientURL() = %q, want non-empty %v", b.ClientURL(), tt.wantURL)
			}
			if tt.wantURL {
				nc, err := nats.Connect(b.ClientURL())
				if err != nil {
					t.Fatalf("second client cannot connect to %s: %v", b.ClientURL(), err)
				}
				nc.Close()
			}
			for _, name := range []string{"HOOKGATE_TASKS", DLQStream, LogStream} {
				if _, err := b.JetStream().Stream(testContext(t), name); err != nil {
					t.Errorf("stream %s: %v", name, err)
				}
			}
		})
	}
}

func TestEmbeddedBatchIsStoredAndSurvivesReopen(t *testing.T) {
	cfg := embeddedConfig(t, "127.0.0.1:0")
	b := openBus(t, cfg)

	const n = 100
	msgs := make([]*nats.Msg, n)
	for i := range msgs {
		msgs[i] = task("tasks.orders", "", i, fmt.Appendf(nil, `{"order":%d}`, i))
	}
	res, err := publish(t, b, msgs...)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	if res != (BatchResult{Published: n}) {
		t.Fatalf("result = %+v, want Published %d and no duplicates", res, n)
	}
	checkStored(t, b.JetStream(), n)

	closeBus(t, b)
	if b.Ready() {
		t.Error("Ready() = true after Close")
	}
	reopened := openBus(t, cfg)
	checkStored(t, reopened.JetStream(), n)
}

// checkStored reads every task back from the stream, in order.
func checkStored(t *testing.T, js jetstream.JetStream, n int) {
	t.Helper()
	ctx := testContext(t)
	st, err := js.Stream(ctx, "HOOKGATE_TASKS")
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	for i := range n {
		m, err := st.GetMsg(ctx, uint64(i+1))
		if err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
		if want := fmt.Sprintf(`{"order":%d}`, i); string(m.Data) != want || m.Subject != "tasks.orders" {
			t.Fatalf("message %d = %s %s, want tasks.orders %s", i+1, m.Subject, m.Data, want)
		}
		if got := m.Header.Get("ce-itemindex"); got != fmt.Sprint(i) {
			t.Fatalf("message %d ce-itemindex = %q, want %d", i+1, got, i)
		}
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	if info.State.Msgs != uint64(n) {
		t.Fatalf("stream holds %d messages, want %d", info.State.Msgs, n)
	}
}

func TestOpenExternal(t *testing.T) {
	const password, token = "s3cret-pass", "s3cret-token"
	tests := []struct {
		name    string
		server  func(t *testing.T) *server.Server
		cfg     func(url string) configs.NATS
		wantErr bool
	}{
		{
			name:   "no auth against natstest",
			server: func(t *testing.T) *server.Server { return natstest.Start(t) },
			cfg:    func(url string) configs.NATS { return configs.NATS{URL: url} },
		},
		{
			name: "user and password",
			server: func(t *testing.T) *server.Server {
				return natstest.Run(t, server.Options{Username: "hookgate", Password: password})
			},
			cfg: func(url string) configs.NATS { return configs.NATS{URL: url, User: "hookgate", Password: password} },
		},
		{
			name:   "token",
			server: func(t *testing.T) *server.Server { return natstest.Run(t, server.Options{Authorization: token}) },
			cfg:    func(url string) configs.NATS { return configs.NATS{URL: url, Token: token} },
		},
		{
			name:   "several servers, first one down",
			server: func(t *testing.T) *server.Server { return natstest.Start(t) },
			cfg:    func(url string) configs.NATS { return configs.NATS{URL: "nats://127.0.0.1:1," + url} },
		},
		{
			name: "wrong password is refused without showing it",
			server: func(t *testing.T) *server.Server {
				return natstest.Run(t, server.Options{Username: "hookgate", Password: "other"})
			},
			cfg:     func(url string) configs.NATS { return configs.NATS{URL: url, User: "hookgate", Password: password} },
			wantErr: true,
		},
		{
			name:    "wrong token is refused without showing it",
			server:  func(t *testing.T) *server.Server { return natstest.Run(t, server.Options{Authorization: "other"}) },
			cfg:     func(url string) configs.NATS { return configs.NATS{URL: url, Token: token} },
			wantErr: true,
		},
		{
			name: "password in the url is not shown",
			server: func(t *testing.T) *server.Server {
				return natstest.Run(t, server.Options{Username: "hookgate", Password: "other"})
			},
			cfg: func(url string) configs.NATS {
				return configs.NATS{URL: strings.Replace(url, "//", "//hookgate:"+password+"@", 1)}
			},
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.server(t)
			b, err := Open(testContext(t), tt.cfg(s.ClientURL()), testLogger(t))
			if tt.wantErr {
				if err == nil {
					closeBus(t, b)
					t.Fatal("Open succeeded, want an error")
				}
				t.Logf("error: %v", err)
				if !errors.Is(err, ErrUnavailable) {
					t.Errorf("error %q does not wrap ErrUnavailable", err)
				}
				if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), token) {
					t.Errorf("error shows a secret: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(func() { closeBus(t, b) })
			if !strings.Contains(b.ClientURL(), fmt.Sprint(s.Addr().(interface{ String() string }).String())) {
				t.Errorf("ClientURL() = %q, want the server's address %s", b.ClientURL(), s.Addr())
			}
			res, err := publish(t, b, task("tasks.ext", "", 0, []byte(`{}`)))
			if err != nil || res.Published != 1 {
				t.Fatalf("publish = %+v, %v; want 1 published", res, err)
			}
		})
	}
}

func TestStreamSettingsUpdatedOnReopen(t *testing.T) {
	s := natstest.Start(t)
	for _, maxAge := range []time.Duration{time.Hour, 3 * time.Hour} {
		cfg := configs.NATS{URL: s.ClientURL(), Stream: configs.Stream{Name: "TASKS_UPD", MaxAge: maxAge, Duplicates: time.Minute}}
		b := openBus(t, cfg)
		info, err := b.JetStream().Stream(testContext(t), "TASKS_UPD")
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		got := info.CachedInfo().Config
		if got.MaxAge != maxAge || got.Duplicates != time.Minute || got.Storage != jetstream.FileStorage {
			t.Errorf("after Open with max_age %s: max_age %s, duplicates %s, storage %s; want %s, 1m, file", maxAge, got.MaxAge, got.Duplicates, got.Storage, maxAge)
		}
		closeBus(t, b)
	}
}

func TestOpenRejectsBadConfig(t *testing.T) {
	occupied := natstest.Run(t, server.Options{})
	tests := []struct {
		name    string
		cfg     configs.NATS
		wantSub string
	}{
		{"listen without a port", configs.NATS{Embedded: configs.Embedded{Listen: "localhost", StoreDir: t.TempDir()}}, "nats.embedded.listen"},
		{"listen port out of range", configs.NATS{Embedded: configs.Embedded{Listen: "127.0.0.1:70000", StoreDir: t.TempDir()}}, "nats.embedded.listen"},
		{"listen port in use", configs.NATS{Embedded: configs.Embedded{Listen: occupied.Addr().String(), StoreDir: t.TempDir()}}, "did not start"},
		{"max payload above 2GiB", configs.NATS{Embedded: configs.Embedded{MaxPayload: 4 << 30, StoreDir: t.TempDir()}}, "nats.embedded.max_payload"},
		{"tls cert without key", configs.NATS{URL: occupied.ClientURL(), TLS: configs.TLS{CertFile: "c.pem"}}, "nats.tls"},
		{"missing nkey file", configs.NATS{URL: occupied.ClientURL(), NKeyFile: "/nonexistent/seed.nk"}, "nats.nkey_file"},
		{"replicas beyond a single server", configs.NATS{URL: occupied.ClientURL(), Stream: configs.Stream{Name: "R3", Replicas: 3}}, "stream R3"},
		{"nothing listening", configs.NATS{URL: "nats://127.0.0.1:1"}, "connect to nats://127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Open(testContext(t), tt.cfg, testLogger(t))
			if err == nil {
				closeBus(t, b)
				t.Fatal("Open succeeded, want an error")
			}
			t.Logf("error: %v", err)
			if !strings.Contains(err.Error(), tt.wantSub) {
				t.Errorf("error %q does not mention %q", err, tt.wantSub)
			}
		})
	}
}

func TestCloseIsIdempotentAndBoundedByContext(t *testing.T) {
	b, err := Open(testContext(t), embeddedConfig(t, ""), testLogger(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Close(ctx); err != nil {
		t.Fatalf("first Close: %v", err)
	}
	if err := b.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if !b.Conn().IsClosed() {
		t.Error("connection still open after Close")
	}
}
