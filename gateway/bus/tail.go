package bus

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
)

// flushTimeout bounds Tail's check that the server has its subscription.
const flushTimeout = 5 * time.Second

// Tail prints every message on subject (wildcards allowed) until ctx ends,
// then returns nil. Each message is written as its subject, its headers as
// "name: value" lines sorted by name (a repeated header on several lines),
// a blank line, the body, and a blank line. It is a core subscription: it
// sees tasks as they are published and stores nothing.
func Tail(ctx context.Context, nc *nats.Conn, subject string, w io.Writer) error {
	sub, err := nc.SubscribeSync(subject)
	if err != nil {
		return fmt.Errorf("tail %q: %w; use a subject such as tasks.> or tasks.erp-stock", subject, err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	// Make sure the server knows the subscription before waiting on it.
	if err := nc.FlushTimeout(flushTimeout); err != nil {
		return fmt.Errorf("tail %q: %w: %w", subject, ErrUnavailable, err)
	}
	bw := bufio.NewWriter(w)
	for {
		msg, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrBadSubscription) {
				return fmt.Errorf("tail %q: %w: %w", subject, ErrUnavailable, err)
			}
			return fmt.Errorf("tail %q: %w", subject, err)
		}
		writeMsg(bw, msg)
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("tail %q: write: %w", subject, err)
		}
	}
}

// writeMsg formats one message; errors surface at Flush.
func writeMsg(w *bufio.Writer, msg *nats.Msg) {
	w.WriteString(msg.Subject)
	w.WriteByte('\n')
	names := make([]string, 0, len(msg.Header))
	for name := range msg.Header {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range msg.Header[name] {
			w.WriteString(name)
			w.WriteString(": ")
			w.WriteString(v)
			w.WriteByte('\n')
		}
	}
	w.WriteByte('\n')
	w.Write(msg.Data)
	w.WriteString("\n\n")
}
