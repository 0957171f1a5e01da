package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when any test leaves a goroutine behind; the
// lifecycle tests also check each serve run on its own.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
