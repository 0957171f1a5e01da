package gateway

import (
	"math"
	"net/http"
	"strconv"
	"sync/atomic"
)

// load is what a Server has in flight on its public listener (SPEC §11):
// webhook requests being handled (server.max_concurrent) and bytes of
// spooled bodies (server.spool_max). It belongs to the Server, not to a
// Runtime: a reload changes the limits, read from the runtime in use at
// each request, not what is already in flight.
//
// /healthz and /readyz do not count and are never refused as busy: a load
// balancer asks them to tell a process that is up but saturated from one
// that is down, and a refused health check would take a busy process out
// of rotation only to send its load to the others.
type load struct {
	requests budget
	spool    budget
}

// budget counts a resource that requests take and give back. Take refuses
// what would pass max; the compare-and-swap keeps the count exact when
// requests race for the last units, so no request is refused for another
// one's attempt.
type budget struct{ used atomic.Int64 }

func (b *budget) take(n, max int64) bool {
	for {
		cur := b.used.Load()
		if cur+n > max {
			return false
		}
		if b.used.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

func (b *budget) give(n int64) { b.used.Add(-n) }

// limit is a configured maximum; 0 (a Config not from configs.Load, which
// requires at least 1) is no limit.
func limit[T ~int | ~int64](v T) int64 {
	if v <= 0 {
		return math.MaxInt64
	}
	return int64(v)
}

// retryAfterBusy is the Retry-After (seconds) of a busy 503: capacity comes
// back as soon as a request in flight ends.
const retryAfterBusy = 1

// busy is the 503 for a request past max_concurrent or spool_max.
func busy() *requestError {
	e := reject(http.StatusServiceUnavailable, "busy")
	e.Header = http.Header{"Retry-After": {strconv.Itoa(retryAfterBusy)}}
	return e
}
