package main

import (
	"math"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// liveHeadroom is the least room the soft memory limit leaves above the
// live heap, as a divisor of it (1/2: 50%). A live heap past the limit
// (the embedded broker's de-duplication state of 2,000,000 tasks is about
// 300 MiB, SPEC §8) otherwise makes the collector run back to back: each
// cycle frees only what was allocated during the last, so the resident
// size stays where the live heap puts it while most of the CPU goes to
// marking. Not a quarter: the limit counts more than the heap (stacks,
// freed pages not yet returned), which left the heap about 5% to grow; on
// the 1 GiB XML export the collector took 38% of the CPU, and a half gave
// 35-60% more items/s for 13% more peak RSS.
const liveHeadroom = 2

// followInterval is how often followLiveHeap looks at the live heap.
const followInterval = 100 * time.Millisecond

// followLiveHeap keeps the soft memory limit at limit, or at the live heap
// plus its headroom when that is more, until stop is closed.
func followLiveHeap(limit int64, stop <-chan struct{}) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	t := time.NewTicker(followInterval)
	defer t.Stop()
	cur := limit
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		metrics.Read(sample)
		want := limit
		if sample[0].Value.Kind() == metrics.KindUint64 {
			live := min(sample[0].Value.Uint64(), math.MaxInt64/2)
			want = max(limit, int64(live+live/liveHeadroom))
		}
		if want != cur {
			debug.SetMemoryLimit(want)
			cur = want
		}
	}
}
