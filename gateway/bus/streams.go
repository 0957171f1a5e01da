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

// streamTimeout bounds each stream call when ctx has no deadline.
const streamTimeout = 10 * time.Second

// streamConfigs are the streams hookgate needs, task stream first (SPEC §6,
// §9). Dead letters are kept until replayed or removed by an operator. The
// task stream also captures the replays of dead letters (ReplaySubject).
func streamConfigs(s configs.Stream) []jetstream.StreamConfig {
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
			Name:     LogStream,
			Subjects: []string{LogSubjects},
			Storage:  jetstream.FileStorage,
			MaxAge:   logMaxAge,
			Replicas: s.Replicas,
		},
	}
}

// ensureStreams creates each stream, or updates it to the configuration
// when it exists (a changed max_age takes effect on the next start).
func ensureStreams(ctx context.Context, js jetstream.JetStream, s configs.Stream) error {
	for _, sc := range streamConfigs(s) {
		if err := ensureStream(ctx, js, sc); err != nil {
			return err
		}
	}
	return nil
}

func ensureStream(ctx context.Context, js jetstream.JetStream, sc jetstream.StreamConfig) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, streamTimeout)
		defer cancel()
	}
	if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
		return fmt.Errorf("create or update stream %s (subjects %v): %w; check nats.stream (max_age, replicas, duplicates) and that JetStream is enabled on the server", sc.Name, sc.Subjects, err)
	}
	return nil
}
