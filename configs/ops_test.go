package configs

import (
	"testing"
	"time"
)

// SPEC §13: server.memory_limit, nats.embedded.sync and nats.connect_timeout.
func TestOperationKeys(t *testing.T) {
	const url = "nats: {url: nats://127.0.0.1:4222}\n"
	tests := []struct {
		name     string
		doc      string
		memLimit Size
		sync     string
		connect  time.Duration
	}{
		{"defaults, embedded", "", EmbeddedMemoryLimit, SyncInterval, 0},
		{"defaults, external", url, 0, SyncInterval, 0},
		{"limit off", "server: {memory_limit: 0}\n", 0, SyncInterval, 0},
		{"limit written with url", "server: {memory_limit: 1GiB}\n" + url, GiB, SyncInterval, 0},
		{"sync always", "nats: {embedded: {sync: always}}\n", EmbeddedMemoryLimit, SyncAlways, 0},
		{"connect timeout", "nats: {url: nats://127.0.0.1:4222, connect_timeout: 90s}\n", 0, SyncInterval, 90 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ps := parseDoc(t, tt.doc, nil)
			checkProblems(t, ps, nil)
			if cfg.Server.MemoryLimit != tt.memLimit || cfg.NATS.Embedded.Sync != tt.sync || cfg.NATS.ConnectTimeout != tt.connect {
				t.Errorf("memory_limit %v, sync %q, connect_timeout %v; want %v, %q, %v",
					cfg.Server.MemoryLimit, cfg.NATS.Embedded.Sync, cfg.NATS.ConnectTimeout, tt.memLimit, tt.sync, tt.connect)
			}
		})
	}
}

func TestOperationKeysRefused(t *testing.T) {
	tests := []struct{ doc, want string }{
		{"nats: {embedded: {sync: sometimes}}\n", `t.yaml:1: nats.embedded.sync: unknown value "sometimes"; use interval or always`},
		{"nats: {url: nats://127.0.0.1:4222, embedded: {sync: always}}\n", "t.yaml:1: nats.embedded.sync: only used by the embedded server"},
		{"server: {memory_limit: 200MB}\n", `t.yaml:1: server.memory_limit: invalid size "200MB"`},
		{"nats: {connect_timeout: soon}\n", `t.yaml:1: nats.connect_timeout: invalid duration "soon"`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, ps := parseDoc(t, tt.doc, nil)
			checkProblems(t, ps, []string{tt.want})
		})
	}
}

// The defaults of a NATS section built in code are those of a loaded one.
func TestNATSWithDefaultsSetsSync(t *testing.T) {
	if got := (NATS{}).WithDefaults().Embedded.Sync; got != SyncInterval {
		t.Errorf("sync %q, want %q", got, SyncInterval)
	}
}
