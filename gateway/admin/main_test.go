package admin

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind (a
// server, a bus or a client connection not closed).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
