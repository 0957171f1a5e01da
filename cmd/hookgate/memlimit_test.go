package main

import (
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"
	"time"
)

// TestMemoryLimitFollowsALiveHeapPastIt keeps a live heap above the limit
// and checks that the limit rises to leave headroom over it, then comes
// back once the heap is free again.
func TestMemoryLimitFollowsALiveHeapPastIt(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(prev)
	const limit = 48 << 20
	debug.SetMemoryLimit(limit)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { defer close(done); followLiveHeap(limit, stop) }()
	defer func() { close(stop); <-done }()

	waitLimit := func(ok func(int64) bool, what string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			runtime.GC() // the live heap is measured by a collection
			if l := debug.SetMemoryLimit(-1); ok(l) {
				return
			} else if time.Now().After(deadline) {
				t.Fatalf("memory limit %d, want %s", l, what)
			}
			time.Sleep(followInterval)
		}
	}
	live := make([]byte, 128<<20)
	waitLimit(func(l int64) bool { return l >= 128<<20+128<<20/liveHeadroom }, "the 128 MiB live heap plus its headroom")
	runtime.KeepAlive(live)
	live = nil
	waitLimit(func(l int64) bool { return l == limit }, "the configured "+strconv.Itoa(limit))
}

// BenchmarkLiveHeapPastLimit allocates 4 KiB of garbage per op, as the
// 1 GiB XML body does per item, while a 256 MiB live heap of small pointer
// objects (a broker's de-duplication map) stays past a 192 MiB soft limit:
// fixed is the limit alone (the baseline), follow keeps headroom above the
// live heap.
func BenchmarkLiveHeapPastLimit(b *testing.B) {
	type entry struct {
		id  string
		seq uint64
	}
	live := make(map[string]*entry, 2_000_000)
	for i := range 2_000_000 {
		id := "big/big/019aee5c-0000-7000-8000-000000000000/" + strconv.Itoa(i)
		live[id] = &entry{id: id, seq: uint64(i)}
	}
	prev := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(prev)
	var sink []byte
	for _, mode := range []string{"fixed", "follow"} {
		b.Run(mode, func(b *testing.B) {
			const limit = 192 << 20
			debug.SetMemoryLimit(limit)
			stop, done := make(chan struct{}), make(chan struct{})
			if mode == "follow" {
				go func() { defer close(done); followLiveHeap(limit, stop) }()
			} else {
				close(done)
			}
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ReportAllocs()
			for b.Loop() {
				sink = make([]byte, 4<<10)
			}
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(after.NumGC-before.NumGC)/float64(b.N)*1e6, "GCs/Mop")
			close(stop)
			<-done
		})
	}
	runtime.KeepAlive(live)
	_ = sink
}
