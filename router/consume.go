package router

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// fetched is a task taken off the pull iterator: its lease on the task is
// kept (InProgress) from then on, whether it waits for a worker or is
// being delivered, until stopBeat.
type fetched struct {
	msg      jetstream.Msg
	stopBeat func()
}

// consume delivers the tasks of one pair until the Router stops, with
// p.slots workers. The pull iterator keeps a request open at the server,
// and MaxAckPending (= slots) bounds what it can hold, so at most `slots`
// tasks are ever in this process unsettled. On Stop the iterator is
// drained: tasks fetched but not started are handed back with Nak so that
// another process takes them at once.
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
	// Long-lived workers rather than a goroutine per task: no goroutine to
	// start and no stack to grow through the HTTP call for each task.
	tasks := make(chan fetched)
	var workers sync.WaitGroup
	defer func() {
		close(tasks)
		workers.Wait()
	}()
	for range p.slots {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for t := range tasks {
				if r.stopCtx.Err() != nil {
					t.stopBeat()
					r.handBack(p, t.msg, log)
					continue
				}
				r.handle(p, t.msg, t.stopBeat, log)
			}
		}()
	}
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
			r.handBack(p, msg, log)
			continue
		}
		t := fetched{msg: msg, stopBeat: r.heartbeat(msg, p.consumer.AckWait)}
		select {
		case tasks <- t:
		case <-r.stopCtx.Done():
			t.stopBeat()
			r.handBack(p, msg, log)
		}
	}
}

// handBack gives a task no attempt was made for back to JetStream on
// Stop. Its delivery is parked: it spends no attempt when this process
// (the next Router of a reload) takes it again.
func (r *Router) handBack(p *pair, msg jetstream.Msg, log *zap.Logger) {
	if meta, err := msg.Metadata(); err == nil {
		r.circuits.park(p.consumer.Durable, meta.Sequence.Stream)
	}
	r.settle(log, "nak on stop", msg.Nak())
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
