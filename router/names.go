package router

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// ConsumerName is the durable JetStream consumer of one (route, outgoing)
// pair. It is deterministic, so every hookgate process attached to the same
// NATS shares it, and made of consumer-name-safe characters only; the hash
// suffix keeps pairs apart whose names differ only in replaced characters.
func ConsumerName(route, outgoing string) string {
	sum := sha256.Sum256([]byte(route + "\x00" + outgoing))
	name := "hookgate_" + safeToken(route, 80) + "__" + safeToken(outgoing, 80)
	return name + "_" + hex.EncodeToString(sum[:4])
}

// DLQSubject is the subject dead letters of one (route, outgoing) pair are
// published on: dlq.<route>.<outgoing>, with characters a subject token
// cannot hold replaced by '_'.
func DLQSubject(route, outgoing string) string {
	return "dlq." + safeToken(route, 0) + "." + safeToken(outgoing, 0)
}

// DLQRouteFilter is the subject filter of every dead letter of one route,
// dlq.<route>.>. Names that differ only in replaced characters share it, so
// a reader also checks the hookgate-route header.
func DLQRouteFilter(route string) string {
	return "dlq." + safeToken(route, 0) + ".>"
}

// ReplayPrefix starts every replay subject; the task stream captures
// ReplayPrefix + ">" besides tasks.>.
const ReplayPrefix = "replay."

// ReplaySubject is the subject a dead letter of one (route, outgoing) pair
// is replayed on: only that pair's consumer filters it, so a replay reaches
// the failed pair and no other route or outgoing of the same incoming. The
// consumer name makes it unique even where DLQSubject is not.
func ReplaySubject(route, outgoing string) string {
	return ReplayPrefix + ConsumerName(route, outgoing)
}

// safeToken keeps [A-Za-z0-9_-] and replaces everything else with '_', which
// is valid both in a consumer name and in a subject token; max > 0 truncates.
func safeToken(s string, max int) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if max > 0 && b.Len() >= max {
			break
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}
