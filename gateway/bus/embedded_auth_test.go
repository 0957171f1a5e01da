package bus

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hookgate/hookgate/configs"
)

// SPEC §11: with nats.embedded.auth the embedded server refuses every
// client without the credentials, and hookgate's own in-process connection
// presents them.
func TestEmbeddedAuth(t *testing.T) {
	tests := []struct {
		name string
		auth configs.EmbeddedAuth
		// creds turns the client URL into one that carries the credentials.
		creds func(u *url.URL)
		// wrong carries credentials that must be refused.
		wrong func(u *url.URL)
	}{
		{
			name:  "token",
			auth:  configs.EmbeddedAuth{Token: "emb3dded-t0ken"},
			creds: func(u *url.URL) { u.User = url.User("emb3dded-t0ken") },
			wrong: func(u *url.URL) { u.User = url.User("another-token") },
		},
		{
			name:  "user and password",
			auth:  configs.EmbeddedAuth{User: "hookgate", Password: "p@ss/w0rd#1"},
			creds: func(u *url.URL) { u.User = url.UserPassword("hookgate", "p@ss/w0rd#1") },
			wrong: func(u *url.URL) { u.User = url.UserPassword("hookgate", "p@ss/w0rd#2") },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := embeddedConfig(t, "127.0.0.1:0")
			cfg.Embedded.Auth = tt.auth
			b := openBus(t, cfg) // hookgate's own connection: must authenticate

			// It stores tasks through that connection.
			if res, err := publish(t, b, task("tasks.orders", "", 0, []byte(`{"order":0}`))); err != nil || res.Published != 1 {
				t.Fatalf("publish through the authenticated in-process connection: %+v, %v", res, err)
			}
			checkStored(t, b.JetStream(), 1)

			base, err := url.Parse(b.ClientURL())
			if err != nil || base.User != nil {
				t.Fatalf("ClientURL() = %q: want a URL without credentials (it is logged)", b.ClientURL())
			}
			if nc, err := nats.Connect(base.String(), nats.NoReconnect()); err == nil {
				nc.Close()
				t.Fatal("a client without credentials connected")
			} else if !strings.Contains(err.Error(), "Authorization Violation") {
				t.Fatalf("a client without credentials: %v; want an Authorization Violation", err)
			}
			wrong := *base
			tt.wrong(&wrong)
			if nc, err := nats.Connect(wrong.String(), nats.NoReconnect()); err == nil {
				nc.Close()
				t.Fatal("a client with wrong credentials connected")
			}

			good := *base
			tt.creds(&good)
			nc, err := nats.Connect(good.String(), nats.NoReconnect())
			if err != nil {
				t.Fatalf("a client with the credentials in its URL: %v", err)
			}
			defer nc.Close()
			if _, err := nc.Request("$JS.API.INFO", nil, 5*time.Second); err != nil {
				t.Fatalf("JetStream through the authenticated client: %v", err)
			}
		})
	}
}

func TestEmbeddedWithoutAuthStaysOpenOnLoopback(t *testing.T) {
	b := openBus(t, embeddedConfig(t, "127.0.0.1:0"))
	nc, err := nats.Connect(b.ClientURL(), nats.NoReconnect())
	if err != nil {
		t.Fatalf("no auth configured, a loopback client is refused: %v", err)
	}
	nc.Close()
}
