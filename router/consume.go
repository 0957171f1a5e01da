package router

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// consume delivers the tasks of one pair until the Router stops. The pull
// iterator keeps a request open at the server, and MaxAckPending (= slots)
// bounds what it can hold, so at most `slots` tasks are ever in this
// process unsettled. On Stop the iterator is drained: tasks still buffered
// are handed back with Nak so that another process takes them at once.
func (r *Router) consume(p *pair, it jetstream.MessagesContext) {
	defer r.wg.Done()
	log := r.log.With(zap.String("route", p.route.name), zap.String("outgoing", p.dest.cfg.Name))
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-r.stopCtx.Done():
			it.Drain()
		case <-stopped:
		}
	}()
	slots := make(chan struct{}, p.slots)
	for {
		msg, err := it.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			return
		}
		if err != nil {
			log.Warn("pulling tasks", zap.Error(err))
			if !sleep(r.stopCtx, 100*time.Millisecond) {
				it.Stop()
				return
			}
			continue
		}
		if r.stopCtx.Err() != nil {
			r.settle(log, "nak on stop", msg.Nak())
			continue
		}
		select {
		case slots <- struct{}{}:
		case <-r.stopCtx.Done():
			r.settle(log, "nak on stop", msg.Nak())
			continue
		}
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			defer func() { <-slots }()
			r.handle(p, msg, log)
		}()
	}
}

// sleep waits d or until ctx ends; it reports whether the full d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
