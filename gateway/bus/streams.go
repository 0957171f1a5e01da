package bus

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate/configs"
)

// logMaxAge is how long the request and delivery log is kept (SPEC §9).
const logMaxAge = 7 * 24 * time.Hour

// streamLookupTimeout bounds the look at an existing log stream's mode.
const streamLookupTimeout = 2 * time.Second

// streamTimeout bounds each stream call when ctx has no deadline.
const streamTimeout = 10 * time.Second

// streamConfigs are the streams hookgate needs, task stream first (SPEC §6,
// §9). Dead letters are kept until replayed or removed by an operator. The
// task stream also captures the replays of dead letters (ReplaySubject).
func streamConfigs(n configs.NATS) []jetstream.StreamConfig {
	s := n.Stream
	return []jetstream.StreamConfig{
		{
			Name:       s.Name,
			Subjects:   []string{TaskSubjects, ReplaySubjects},
			Storage:    jetstream.FileStorage,
			MaxAge:     s.MaxAge,
			Replicas:   s.Replicas,
			Duplicates: s.Duplicates,
		},
		{
			Name:     DLQStream,
			Subjects: []string{DLQSubjects},
			Storage:  jetstream.FileStorage,
			Replicas: s.Replicas,
		},
		{
			Name:        LogStream,
			Subjects:    []string{LogSubjects},
			Storage:     jetstream.FileStorage,
			MaxAge:      logMaxAge,
			Replicas:    s.Replicas,
			PersistMode: logPersistMode(n),
		},
	}
}

// logPersistMode lets the embedded server write log entries in batches
// (within about 15ms) instead of with one write syscall each, which cost
// about 4µs of CPU per entry: per delivery attempt, and per logged request
// (BenchmarkLogWriter). The log loses nothing it promised, since a
// LogWriter already holds its queue in memory and drops entries rather
// than wait. Tasks and dead letters keep the default. With nats.url the
// operator's servers decide how streams reach the disk (and refuse the mode
// on replicated streams); with sync: always the operator asked for every
// write on disk, the log's too.
func logPersistMode(n configs.NATS) jetstream.PersistModeType {
	if n.URL != "" || n.Stream.Replicas > 1 || n.Embedded.Sync == configs.SyncAlways {
		return jetstream.DefaultPersistMode
	}
	return jetstream.AsyncPersistMode
}

// ensureStreams creates each stream, or updates it to the configuration
// when it exists (a changed max_age takes effect on the next start).
func ensureStreams(ctx context.Context, js jetstream.JetStream, n configs.NATS) error {
	for _, sc := range streamConfigs(n) {
		// nats-server refuses to change a stream's persist mode, so the
		// log keeps the one it was created with, by hookgate embedded or
		// not (docs/operations.md says how to change it).
		if err := ensureStream(ctx, js, sc, sc.Name == LogStream); err != nil {
			return err
		}
	}
	return nil
}

func ensureStream(ctx context.Context, js jetstream.JetStream, sc jetstream.StreamConfig, keepMode bool) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, streamTimeout)
		defer cancel()
	}
	if keepMode {
		// Bounded on its own: an account that may not read stream info
		// gets no answer, and the create below must still have its time.
		lookup, cancel := context.WithTimeout(ctx, streamLookupTimeout)
		if cur, err := js.Stream(lookup, sc.Name); err == nil {
			sc.PersistMode = cur.CachedInfo().Config.PersistMode
		}
		cancel()
	}
	if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
		return fmt.Errorf("create or update stream %s (subjects %v): %w; check nats.stream (max_age, replicas, duplicates) and that JetStream is enabled on the server", sc.Name, sc.Subjects, err)
	}
	return nil
}
