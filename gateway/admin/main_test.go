package admin

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind (a
// server, a bus or a client connection not closed).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// jetstream's Fetch runs a goroutine until its pull request expires
		// (at most 1s in scanStream, 1s more once the connection is closed),
		// even when the reader stopped early; it has no way to stop sooner.
		goleak.IgnoreTopFunction("github.com/nats-io/nats.go/jetstream.(*pullConsumer).fetch.func1"),
	)
}
