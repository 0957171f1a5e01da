package configs

import "time"

// Defaults of SPEC §2–§6, in one place. Sections start from these values and
// decoding overwrites what the file sets, so an explicit "" (admin.listen: "")
// is kept apart from an absent key.
const (
	defaultMaxItems    = 100000
	defaultConcurrency = 8
	defaultRootElement = "item"
)

// The NATS names a config default is built from; gateway/bus/wire.go builds
// every other name on them. DefaultTaskStream is nats.stream.name's default.
// Every task subject starts with TaskSubjectPrefix, which the task stream
// captures: an incoming's subject defaults to tasks.<name> and must keep it.
const (
	DefaultTaskStream = "HOOKGATE_TASKS"
	TaskSubjectPrefix = "tasks."
)

// DefaultTolerance is the timestamp window of every preset with a timestamp
// (Preset.Timestamp) and of a generic hmac with timestamp_header.
const DefaultTolerance = 5 * time.Minute

// The values of nats.embedded.sync: SyncInterval leaves fsync to
// nats-server's own interval (2 minutes in nats-server 2.15), SyncAlways
// fsyncs every write before it is acknowledged.
const (
	SyncInterval = "interval"
	SyncAlways   = "always"
)

// EmbeddedMemoryLimit is server.memory_limit's default when NATS is
// embedded: the process then holds the broker too, and a soft limit keeps
// a 1 GiB incremental body under 256 MiB of resident memory (SPEC §13;
// docs/operations.md has the measurement). With nats.url the default is
// no limit: the process is the gateway alone and its size is the
// operator's to choose.
const EmbeddedMemoryLimit = 192 * MiB

// defaultMemoryLimit turns server.memory_limit off when nats.url is set and
// the key was not written: Default has the embedded mode's value.
func defaultMemoryLimit(c *Config, written bool) {
	if c.NATS.URL != "" && !written {
		c.Server.MemoryLimit = 0
	}
}

// Default returns the configuration used when a file sets nothing: every
// default of SPEC §2 and no webhooks.
func Default() *Config {
	return &Config{
		Server: Server{
			Listen:            ":8080",
			MaxBody:           10 * MiB,
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       60 * time.Second,
			ShutdownTimeout:   30 * time.Second,
			SpoolMax:          1 * GiB,
			MaxConcurrent:     1024,
			MemoryLimit:       EmbeddedMemoryLimit,
		},
		Admin: Admin{Listen: "127.0.0.1:8081"},
		Log:   Log{Level: "info", Format: "json"},
		NATS: NATS{
			Embedded: Embedded{Listen: "127.0.0.1:4222", StoreDir: "data/nats", MaxPayload: 8 * MiB, Sync: SyncInterval},
			Stream: Stream{
				Name:       DefaultTaskStream,
				MaxAge:     168 * time.Hour,
				Replicas:   1,
				Duplicates: 2 * time.Minute,
			},
			PublishTimeout: 5 * time.Second,
		},
		Tracing: Tracing{SampleRatio: 1},
	}
}

func defaultWebhook() Webhook { return Webhook{Methods: []string{"POST"}} }

func defaultIncoming() Incoming {
	return Incoming{
		Parser:     "auto",
		ReadMethod: "full",
		OnEmpty:    "reject",
		MaxItems:   defaultMaxItems,
		CSV:        CSVOptions{Delimiter: ","},
	}
}

func defaultOutgoing() Outgoing {
	return Outgoing{
		Method:      "POST",
		Format:      "json",
		RootElement: defaultRootElement,
		Timeout:     10 * time.Second,
		Concurrency: defaultConcurrency,
		Retry:       Retry{MaxAttempts: 12, InitialInterval: time.Second, MaxInterval: 15 * time.Minute},
		Circuit:     Circuit{Failures: 10, OpenFor: 30 * time.Second, MaxOpenFor: 10 * time.Minute},
	}
}

// itemsBytesPerBody is the default max_items_bytes as a multiple of the
// webhook's max_body (SPEC §11).
const itemsBytesPerBody = 4

// ItemsBytesLimit is the most the items of one request may total when this
// incoming configuration serves a webhook whose max_body is maxBody:
// max_items_bytes when set, else 4 x maxBody.
func (in Incoming) ItemsBytesLimit(maxBody Size) Size {
	if in.MaxItemsBytes > 0 {
		return in.MaxItemsBytes
	}
	return itemsBytesPerBody * maxBody
}

func defaultRespond() Respond { return Respond{Status: 200, ContentType: "application/json"} }

// applyDerivedDefaults fills the defaults that depend on other values: the
// identifier from the name, subject and type from the incoming name, a
// webhook's max_body from the server's, and preset tolerances.
func applyDerivedDefaults(c *Config) {
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		if w.Identifier == "" {
			w.Identifier = Slug(w.Name)
		}
		if w.MaxBody == 0 {
			w.MaxBody = c.Server.MaxBody
		}
		for _, p := range w.PreProcessors {
			if p.HMAC != nil {
				hmacDefaults(p.HMAC)
			}
		}
	}
	for i := range c.Incoming {
		in := &c.Incoming[i]
		if in.Subject == "" && in.Name != "" {
			in.Subject = TaskSubjectPrefix + in.Name
		}
		if in.Type == "" && in.Name != "" {
			in.Type = "hookgate." + in.Name
		}
	}
	for i := range c.Outgoing {
		if s := c.Outgoing[i].Signing; s != nil {
			hmacDefaults(s)
		}
	}
}

func hmacDefaults(h *HMAC) {
	if h.Preset == "" {
		if h.Encoding == "" {
			h.Encoding = "hex"
		}
		if h.SignedPayload == "" {
			h.SignedPayload = "{body}"
		}
		if h.TimestampHeader != "" && h.Tolerance == 0 {
			h.Tolerance = DefaultTolerance
		}
		return
	}
	if p, ok := PresetByName(h.Preset); ok && h.Tolerance == 0 {
		h.Tolerance = p.Tolerance()
	}
}
