package main

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.uber.org/zap"
)

// lifecycle is what serve has started, in order, each with its stop
// (Caddy's Provision/Cleanup, nats-server's Shutdown): whether serve ends
// on a signal, on a listener's error or on a part that does not start,
// stopAll stops exactly what is running, the last started first.
type lifecycle struct {
	log   *zap.Logger
	parts []part
}

type part struct {
	name string
	stop func(context.Context) error
}

// started registers the stop of a part that is now running; a part with
// nothing to stop registers nothing.
func (l *lifecycle) started(name string, stop func(context.Context) error) {
	l.parts = append(l.parts, part{name: name, stop: stop})
}

// mark is the position of the next part started: a part registered at a
// mark with startedAt stops after every part started from the mark on.
func (l *lifecycle) mark() int { return len(l.parts) }

// startedAt registers the stop of a part that is now running at position
// at (a mark), so that it stops after the parts started since the mark;
// it returns the mark for the next such part.
func (l *lifecycle) startedAt(at int, name string, stop func(context.Context) error) int {
	l.parts = slices.Insert(l.parts, at, part{name: name, stop: stop})
	return at + 1
}

// stopAll stops every part in reverse order, within ctx for all of them
// together. A part that does not stop cleanly is logged and the next one is
// stopped anyway; the failures are returned joined.
func (l *lifecycle) stopAll(ctx context.Context) error {
	var errs []error
	for i := len(l.parts) - 1; i >= 0; i-- {
		p := l.parts[i]
		if err := p.stop(ctx); err != nil {
			l.log.Warn("part not stopped cleanly", zap.String("part", p.name), zap.Error(err))
			errs = append(errs, fmt.Errorf("stop %s: %w", p.name, err))
		}
	}
	l.parts = nil
	return errors.Join(errs...)
}
