package admin

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// scanStream reads an ordered consumer on st until visit returns false,
// nothing more is pending, or ctx ends. Errors are JetStream's; callers
// turn them into their own 503.
func scanStream(ctx context.Context, st jetstream.Stream, cfg jetstream.OrderedConsumerConfig, visit func(jetstream.Msg, *jetstream.MsgMetadata) bool) error {
	cfg.InactiveThreshold = 30 * time.Second
	c, err := st.OrderedConsumer(ctx, cfg)
	if err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		more, err := scanBatch(ctx, c, visit)
		if err != nil || !more {
			return err
		}
	}
}

// scanBatch fetches one batch of c and hands it to visit; more is false
// once visit stopped or nothing is left. The fetch runs under a context
// of its own, cancelled on return: a batch left early would otherwise keep
// nats.go's fetch goroutine and its inbox subscription until the pull
// expires.
func scanBatch(ctx context.Context, c jetstream.Consumer, visit func(jetstream.Msg, *jetstream.MsgMetadata) bool) (more bool, err error) {
	wait := time.Second
	if d, ok := ctx.Deadline(); ok {
		wait = min(wait, max(time.Until(d), 10*time.Millisecond))
	}
	fetchCtx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	batch, err := c.Fetch(256, jetstream.FetchContext(fetchCtx))
	if err != nil {
		return false, err
	}
	n := 0
	for m := range batch.Messages() {
		n++
		meta, err := m.Metadata()
		if err != nil {
			continue
		}
		if !visit(m, meta) || meta.NumPending == 0 {
			return false, nil
		}
	}
	// A pull that expired, by the server's answer or by fetchCtx's end, is
	// not an error: what it found is the answer; the caller's ctx decides.
	if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, fetchCtx.Err()) {
		return false, err
	}
	return n > 0, nil // none: nothing on the subject from there on
}

// newestFirst calls keep on st's messages on filter whose sequence is
// below before (0: every message), from the newest back, until keep
// accepted limit of them or none is left. It reads windows of sequence
// numbers backwards, each a forward scan, so a long stream costs only its
// tail.
//
// next is where the older messages start: the before of the next page, 0
// when none is left. A window whose read failed is left out whole, and next
// is its top, so that paging on from next neither skips nor repeats a
// message.
func newestFirst(ctx context.Context, st jetstream.Stream, filter string, before uint64, limit int, keep func(jetstream.Msg, *jetstream.MsgMetadata) bool) (next uint64, err error) {
	last, err := st.GetLastMsgForSubject(ctx, filter)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	// The info was read before the last message: it may predate the
	// stream's first message (FirstSeq 0), and sequences start at 1.
	first := max(st.CachedInfo().State.FirstSeq, 1)
	hi := last.Sequence
	if before > 0 {
		if before <= first {
			return 0, nil
		}
		hi = min(hi, before-1)
	}
	window := uint64(4 * limit)
	kept := 0
	for hi >= first {
		lo := first
		if hi-first+1 > window {
			lo = hi - window + 1
		}
		type entry struct {
			m    jetstream.Msg
			meta *jetstream.MsgMetadata
		}
		var chunk []entry
		err := scanStream(ctx, st, jetstream.OrderedConsumerConfig{
			FilterSubjects: []string{filter},
			DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
			OptStartSeq:    lo,
		}, func(m jetstream.Msg, meta *jetstream.MsgMetadata) bool {
			if meta.Sequence.Stream > hi {
				return false
			}
			chunk = append(chunk, entry{m, meta})
			return true
		})
		if err != nil {
			return hi + 1, err
		}
		for i := len(chunk) - 1; i >= 0; i-- {
			if !keep(chunk[i].m, chunk[i].meta) {
				continue
			}
			if kept++; kept == limit {
				if i == 0 && lo == first {
					return 0, nil // nothing older is left
				}
				return chunk[i].meta.Sequence.Stream, nil
			}
		}
		if lo == first {
			return 0, nil
		}
		hi, window = lo-1, window*4
	}
	return 0, nil
}
