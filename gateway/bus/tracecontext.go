package bus

import (
	"encoding/hex"
	"math/rand/v2"

	"go.opentelemetry.io/otel/trace"
)

// W3C Trace Context as the gateway and the router both write it (SPEC §12):
// the ids of spans that are not recorded, and the traceparent that carries
// them on tasks (HeaderCETraceParent) and deliveries.

// Span names and attribute keys of hookgate's spans (docs/tracing.md).
const (
	SpanRequest  = "hookgate.request"
	SpanValidate = "hookgate.validate"
	SpanParse    = "hookgate.parse"
	SpanPublish  = "hookgate.publish"
	SpanDeliver  = "hookgate.deliver"

	AttrWebhook   = "hookgate.webhook"
	AttrIncoming  = "hookgate.incoming"
	AttrRoute     = "hookgate.route"
	AttrOutgoing  = "hookgate.outgoing"
	AttrRequestID = "hookgate.request_id"
	AttrTaskID    = "hookgate.task_id"
	AttrAttempt   = "hookgate.attempt"
	AttrTasks     = "hookgate.tasks"
	AttrError     = "hookgate.error"

	// TracerName is the instrumentation scope of hookgate's spans.
	TracerName = "github.com/hookgate/hookgate"
)

// traceparentLen is the length of a version 00 traceparent.
const traceparentLen = 55

// NewTraceID and NewSpanID draw from the runtime's per-thread ChaCha8
// source: unpredictable enough for trace ids, which are no secrets, and
// without the lock of a shared generator.
func NewTraceID() trace.TraceID {
	var id trace.TraceID
	for {
		hi, lo := rand.Uint64(), rand.Uint64()
		putUint64(id[:8], hi)
		putUint64(id[8:], lo)
		if hi|lo != 0 { // all zeros is the invalid trace id
			return id
		}
	}
}

// NewSpanID is a random valid span id; see NewTraceID.
func NewSpanID() trace.SpanID {
	var id trace.SpanID
	for {
		v := rand.Uint64()
		putUint64(id[:], v)
		if v != 0 {
			return id
		}
	}
}

func putUint64(b []byte, v uint64) {
	_ = b[7]
	for i := 7; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
}

// FormatTraceparent writes a version 00 traceparent, as
// propagation.TraceContext.Inject does, in one allocation. Only the flags
// the specification defines (sampled, random) are kept.
func FormatTraceparent(tid trace.TraceID, sid trace.SpanID, flags trace.TraceFlags) string {
	var b [traceparentLen]byte
	b[0], b[1], b[2] = '0', '0', '-'
	hex.Encode(b[3:35], tid[:])
	b[35] = '-'
	hex.Encode(b[36:52], sid[:])
	b[52] = '-'
	f := [1]byte{byte(flags & (trace.FlagsSampled | trace.FlagsRandom))}
	hex.Encode(b[53:55], f[:])
	return string(b[:])
}
