package configs

import (
	"testing"
	"time"
)

// A section built in code gets the defaults a loaded one has, keeps what
// it sets, and keeps an in-process embedded server.
func TestWithDefaults(t *testing.T) {
	d := Default()
	nats := NATS{Embedded: Embedded{StoreDir: "/tmp/store"}, PublishTimeout: time.Second}.WithDefaults()
	want := d.NATS
	want.Embedded.Listen, want.Embedded.StoreDir, want.PublishTimeout = "", "/tmp/store", time.Second
	if nats != want {
		t.Errorf("NATS.WithDefaults = %+v\nwant %+v", nats, want)
	}

	tests := []struct {
		name string
		in   Outgoing
		want func(*Outgoing)
	}{
		{"unset fields get the defaults", Outgoing{Name: "o"}, func(*Outgoing) {}},
		{"set fields are kept", Outgoing{Name: "o", Method: "PUT", Timeout: time.Second, Retry: Retry{MaxAttempts: 2}},
			func(o *Outgoing) { o.Method, o.Timeout, o.Retry.MaxAttempts = "PUT", time.Second, 2 }},
		{"a negative number is unset", Outgoing{Name: "o", Concurrency: -1}, func(*Outgoing) {}},
		{"max_interval is raised to initial_interval", Outgoing{Name: "o", Retry: Retry{InitialInterval: time.Hour}},
			func(o *Outgoing) { o.Retry.InitialInterval, o.Retry.MaxInterval = time.Hour, time.Hour }},
		{"a circuit with failures 0 stays off", Outgoing{Name: "o", Circuit: Circuit{OpenFor: time.Second}},
			func(o *Outgoing) {
				o.Circuit = Circuit{Failures: 0, OpenFor: time.Second, MaxOpenFor: 10 * time.Minute}
			}},
		{"max_open_for is raised to open_for", Outgoing{Name: "o", Circuit: Circuit{Failures: 3, OpenFor: time.Hour}},
			func(o *Outgoing) { o.Circuit = Circuit{Failures: 3, OpenFor: time.Hour, MaxOpenFor: time.Hour} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := defaultOutgoing()
			want.Name = "o"
			tt.want(&want)
			if got := tt.in.WithDefaults(); got.Method != want.Method || got.Format != want.Format ||
				got.RootElement != want.RootElement || got.Timeout != want.Timeout ||
				got.Concurrency != want.Concurrency || got.Retry != want.Retry || got.Circuit != want.Circuit {
				t.Errorf("Outgoing.WithDefaults = %+v\nwant %+v", got, want)
			}
		})
	}
}
