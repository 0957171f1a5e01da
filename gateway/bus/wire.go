package bus

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/hookgate/hookgate/configs"
)

// The NATS wire contract (SPEC §6, §7, §9): every stream, subject and
// consumer name hookgate reads or writes, and what its messages carry. The
// gateway, the router and the admin listener spell none of them: what is
// written here is what other processes see (subscribers of tasks.>, `nats`
// users, hookgate processes sharing the streams), so a change here is a
// change of the contract.

// Names of the streams besides the configurable task stream.
const (
	DLQStream = "HOOKGATE_DLQ"
	LogStream = "HOOKGATE_LOG"
)

// TaskStream is the task stream's name: nats.stream.name, or its default
// for a config built in code that leaves it empty.
func TaskStream(name string) string {
	if name == "" {
		return configs.DefaultTaskStream
	}
	return name
}

// Subject prefixes; every subject below starts with one of them.
const (
	replayPrefix     = "replay."
	dlqPrefix        = "dlq."
	logPrefix        = "log."
	requestLogPrefix = "log.requests."
	attemptLogPrefix = "log.deliveries."
)

// What each stream captures: the task stream TaskSubjects and
// ReplaySubjects, DLQStream DLQSubjects, LogStream LogSubjects.
// RequestLogSubjects and AttemptLogSubjects are the two logs in LogStream.
const (
	TaskSubjects       = configs.TaskSubjectPrefix + ">"
	ReplaySubjects     = replayPrefix + ">"
	DLQSubjects        = dlqPrefix + ">"
	LogSubjects        = logPrefix + ">"
	RequestLogSubjects = requestLogPrefix + ">"
	AttemptLogSubjects = attemptLogPrefix + ">"
)

// TaskSubject is the subject an incoming's tasks are published on when the
// config names none: tasks.<incoming>.
func TaskSubject(incoming string) string { return configs.TaskSubjectPrefix + incoming }

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
	return dlqPrefix + safeToken(route, 0) + "." + safeToken(outgoing, 0)
}

// DLQRouteFilter is the subject filter of every dead letter of one route,
// dlq.<route>.>. Names that differ only in replaced characters share it, so
// a reader also checks the hookgate-route header.
func DLQRouteFilter(route string) string {
	return dlqPrefix + safeToken(route, 0) + ".>"
}

// ReplaySubject is the subject a dead letter of one (route, outgoing) pair
// is replayed on, in the task stream: only that pair's consumer filters it,
// so a replay reaches the failed pair and no other route or outgoing of the
// same incoming, and subscribers of tasks.> never see it again. The
// consumer name makes it unique even where DLQSubject is not.
func ReplaySubject(route, outgoing string) string {
	return replayPrefix + ConsumerName(route, outgoing)
}

// RequestLogSubject is the subject of a webhook's request log entries, in
// LogStream: log.requests.<identifier>.
func RequestLogSubject(identifier string) string { return requestLogPrefix + identifier }

// AttemptLogSubject is the subject of a pair's delivery attempt entries, in
// LogStream: log.deliveries.<route>.<outgoing>, made subject-safe like
// DLQSubject.
func AttemptLogSubject(route, outgoing string) string {
	return attemptLogPrefix + safeToken(route, 0) + "." + safeToken(outgoing, 0)
}

// AttemptLogRouteFilter is the subject filter of every attempt entry of one
// route. Names that differ only in replaced characters share it, so a
// reader also checks the entry's route.
func AttemptLogRouteFilter(route string) string {
	return attemptLogPrefix + safeToken(route, 0) + ".>"
}

// Headers of a task (SPEC §7): CloudEvents binary content mode, names in
// lower case exactly, plus content-type and Nats-Msg-Id (nats.MsgIdHdr).
const (
	HeaderCESpecVersion = "ce-specversion"
	HeaderCEID          = "ce-id"
	HeaderCESource      = "ce-source"
	HeaderCEType        = "ce-type"
	HeaderCETime        = "ce-time"
	HeaderCEWebhook     = "ce-webhook"
	HeaderCEIncoming    = "ce-incoming"
	HeaderCERequestID   = "ce-requestid"
	HeaderCEItemIndex   = "ce-itemindex"
	HeaderCEItemCount   = "ce-itemcount"
	HeaderContentType   = "content-type"
	// HeaderCETraceParent and HeaderCETraceState are the CloudEvents
	// distributed tracing extension (SPEC §12): the W3C traceparent and
	// tracestate of the request that made the task. Every task carries
	// ce-traceparent; ce-tracestate only when there is one.
	HeaderCETraceParent = "ce-traceparent"
	HeaderCETraceState  = "ce-tracestate"
	// CEHeaderPrefix starts every CloudEvents header.
	CEHeaderPrefix = "ce-"
)

// Headers a dead letter carries besides the task's own (SPEC §6).
const (
	// HeaderPrefix starts every header hookgate adds to a dead letter.
	HeaderPrefix = "hookgate-"
	// HeaderError says why the task was not delivered.
	HeaderError = "hookgate-error"
	// HeaderStatus is the last HTTP status, "0" when none came.
	HeaderStatus = "hookgate-status"
	// HeaderAttempts is how many deliveries were attempted.
	HeaderAttempts = "hookgate-attempts"
	// HeaderRoute names the route.
	HeaderRoute = "hookgate-route"
	// HeaderOutgoing names the outgoing configuration.
	HeaderOutgoing = "hookgate-outgoing"
	// HeaderOrigMsgID keeps the task's own Nats-Msg-Id, which the dead
	// letter cannot carry (a second dead letter of the same task would be
	// dropped as a duplicate); a replay restores it from here.
	HeaderOrigMsgID = "hookgate-msg-id"
	// HeaderDroppedHeaders is set on a reduced dead letter that left some
	// of the task's headers out: their names, comma-separated. A value it
	// shortened ends in "…".
	HeaderDroppedHeaders = "hookgate-dropped-headers"
)

// RequestLogEntry is one request in the request log (SPEC §9), kept for
// webhooks with `logging: true`.
type RequestLogEntry struct {
	Time       time.Time           `json:"time"`
	RequestID  string              `json:"request_id"`
	Webhook    string              `json:"webhook"`
	RemoteAddr string              `json:"remote_addr"`
	Method     string              `json:"method"`
	Path       string              `json:"path"`
	Headers    map[string][]string `json:"headers"`
	// Body is the first bytes, up to gateway.MaxLoggedBody; BodyTruncated
	// says there was more, or that the body was never read (a 413, a read
	// error).
	Body          string  `json:"body"`
	BodyTruncated bool    `json:"body_truncated"`
	Status        int     `json:"status"`
	Error         string  `json:"error"`
	Tasks         int     `json:"tasks"`
	DurationMS    float64 `json:"duration_ms"`
}

// AttemptLogEntry is one delivery attempt in the log (SPEC §9). Status is
// the destination's HTTP status, 0 when none came; Error is empty when the
// attempt delivered the task. Response is the start of the answer, up to
// router.MaxLoggedResponse, secrets masked.
type AttemptLogEntry struct {
	Time       time.Time `json:"time"`
	TaskID     string    `json:"task_id"`
	RequestID  string    `json:"request_id"`
	Route      string    `json:"route"`
	Outgoing   string    `json:"outgoing"`
	Attempt    int       `json:"attempt"`
	Status     int       `json:"status"`
	DurationMS float64   `json:"duration_ms"`
	Error      string    `json:"error"`
	Response   string    `json:"response"`
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
