package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/itchyny/gojq"
)

// jqTimeout bounds one run of a jq program on one item (SPEC §12).
const jqTimeout = 100 * time.Millisecond

// jqErrorMax bounds the jq error kept in hookgate-error.
const jqErrorMax = 512

// jqStep is transform step i: a jq program whose one output becomes the
// item. It decodes the item, runs the program for at most timeout, and
// encodes the result as gojq does (object keys sorted, numbers as written
// in the item). No output, several outputs, an error or the timeout make
// the task a dead letter naming the step; the output's size is bounded by
// transform.apply like every step's.
func jqStep(i int, code *gojq.Code, keep map[string]struct{}, timeout time.Duration) step {
	return func(item []byte) (out []byte, err error) {
		fail := func(format string, args ...any) error {
			return &unreadable{step: "transform", reason: fmt.Sprintf("transform[%d].jq: ", i) + clipError(fmt.Sprintf(format, args...), jqErrorMax)}
		}
		// gojq is not known to panic on any input, but a panic here would
		// end the process on every redelivery of the task: it is a dead
		// letter instead, as cel-go does with its own.
		defer func() {
			if r := recover(); r != nil {
				out, err = nil, fail("internal error: %v", r)
			}
		}()
		v, err := decodeJQ(item, keep)
		if err != nil {
			return nil, fail("%v", err)
		}
		ctx := startJQDeadline(timeout)
		defer ctx.stop()
		it := code.RunWithContext(ctx, v)
		res, ok := it.Next()
		if !ok {
			return nil, fail("no output; a jq transform must yield exactly one value (filter tasks with a filter, not with select or empty)")
		}
		if err := jqError(ctx, res, timeout); err != nil {
			return nil, fail("%v", err)
		}
		if next, more := it.Next(); more {
			if err := jqError(ctx, next, timeout); err != nil {
				return nil, fail("%v", err)
			}
			return nil, fail("several outputs; a jq transform must yield exactly one value (collect them in an array: [ … ])")
		}
		b, err := gojq.Marshal(res)
		if err != nil {
			return nil, fail("encode the result: %v", err)
		}
		return b, nil
	}
}

// jqDeadline is the context a jq run checks between instructions: Done
// closes when the timeout passes. Unlike context.WithTimeout it is reused
// (a context, a timer and a closure less per task) as long as its timer
// never fired; one that fired is dropped with its closed channel.
type jqDeadline struct {
	done  chan struct{}
	timer *time.Timer
	fired atomic.Bool
}

var jqDeadlinePool sync.Pool

func startJQDeadline(timeout time.Duration) *jqDeadline {
	if d, ok := jqDeadlinePool.Get().(*jqDeadline); ok {
		d.timer.Reset(timeout)
		return d
	}
	d := &jqDeadline{done: make(chan struct{})}
	d.timer = time.AfterFunc(timeout, func() {
		d.fired.Store(true)
		close(d.done)
	})
	return d
}

// stop ends the run's deadline and keeps the context for another run when
// its timer had not fired.
func (d *jqDeadline) stop() {
	if d.timer.Stop() {
		jqDeadlinePool.Put(d)
	}
}

func (d *jqDeadline) Deadline() (time.Time, bool) { return time.Time{}, false }
func (d *jqDeadline) Done() <-chan struct{}       { return d.done }
func (d *jqDeadline) Value(any) any               { return nil }
func (d *jqDeadline) Err() error {
	if d.fired.Load() {
		return context.DeadlineExceeded
	}
	return nil
}

// jqError is the error an output stands for, if it is one.
func jqError(ctx context.Context, out any, timeout time.Duration) error {
	err, ok := out.(error)
	if !ok {
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		return fmt.Errorf("stopped after %v, the time a jq transform may take on one item", timeout)
	}
	var halt *gojq.HaltError
	if errors.As(err, &halt) && halt.Value() == nil {
		return errors.New("halted without output")
	}
	return err
}

// clipError shortens a message to at most n bytes, on a rune boundary.
func clipError(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// jqScratch holds decodeJQ's open containers: their members wait on one
// stack and each container is made once, at its exact size, when it
// closes (no map growth, no slice doubling). Pooled: this runs per task.
type jqScratch struct {
	frames  []jqFrame
	members []jqMember
}

type jqFrame struct {
	obj   bool
	key   string // the container's key in its parent object
	first int    // where its members start in members
}

type jqMember struct {
	key string
	val any
}

var jqScratchPool = sync.Pool{New: func() any { return new(jqScratch) }}

// jqScratchKeep is the most members a pooled scratch keeps room for.
const jqScratchKeep = 4096

// decodeJQ turns the item's JSON into gojq's values: map[string]any,
// []any, string, bool, nil, and json.Number for numbers, which gojq
// computes with and writes back exactly as the item had them (a 20-digit
// id stays intact). One pass over scanJSON's tokens, without reflection
// and without recursion: about 2.5 times faster than encoding/json with
// UseNumber (BenchmarkTransformReshape). Strings and numbers without
// escapes are the item's own bytes, not copies: the task body is never
// written to (see pair.prepare) and what gojq makes of them is encoded,
// which copies it, before the step returns. item has passed readJSON.
//
// When keep is not nil and the item is an object, only its members named
// in keep are decoded (see jqRootKeys); the others are skipped unread.
func decodeJQ(item []byte, keep map[string]struct{}) (any, error) {
	text := unsafe.String(unsafe.SliceData(item), len(item))
	str := func(e jsonEvent) string {
		inner := text[e.start+1 : e.end-1]
		if strings.IndexByte(inner, '\\') >= 0 {
			return unquote(item[e.start:e.end])
		}
		return inner
	}
	sc := jqScratchPool.Get().(*jqScratch)
	high := 0 // the most members held at once: what this run wrote to
	defer func() {
		// Drop the item's strings; a scratch grown by a huge item is not
		// kept, so that it neither pins memory nor costs every run a clear.
		clear(sc.members[:high])
		clear(sc.frames[:cap(sc.frames)])
		if cap(sc.members) <= jqScratchKeep {
			sc.frames, sc.members = sc.frames[:0], sc.members[:0]
			jqScratchPool.Put(sc)
		}
	}()
	var (
		key  string
		root any
		done bool
	)
	put := func(v any) {
		if len(sc.frames) == 0 {
			root, done = v, true
			return
		}
		sc.members = append(sc.members, jqMember{key, v})
		high = max(high, len(sc.members))
	}
	// skipping: inside a top-level member keep leaves out, at depth skipDepth.
	skipping, skipDepth := false, 0
	err := scanJSON(item, func(e jsonEvent) error {
		if skipping {
			switch e.kind {
			case '{', '[':
				skipDepth++
			case '}', ']':
				skipDepth--
			case 'k':
				return nil
			}
			skipping = skipDepth > 0
			return nil
		}
		switch e.kind {
		case '{', '[':
			sc.frames = append(sc.frames, jqFrame{obj: e.kind == '{', key: key, first: len(sc.members)})
		case '}', ']':
			if len(sc.frames) == 0 {
				return errors.New("unbalanced JSON")
			}
			top := sc.frames[len(sc.frames)-1]
			sc.frames = sc.frames[:len(sc.frames)-1]
			own := sc.members[top.first:]
			var v any
			if top.obj {
				m := make(map[string]any, len(own))
				for _, kv := range own {
					m[kv.key] = kv.val
				}
				v = m
			} else {
				a := make([]any, len(own))
				for i, kv := range own {
					a[i] = kv.val
				}
				v = a
			}
			sc.members = sc.members[:top.first]
			key = top.key
			put(v)
		case 'k':
			key = str(e)
			if keep != nil && len(sc.frames) == 1 && sc.frames[0].obj {
				_, kept := keep[key]
				skipping = !kept
			}
		default:
			switch item[e.start] {
			case '"':
				put(str(e))
			case 't':
				put(true)
			case 'f':
				put(false)
			case 'n':
				put(nil)
			default:
				put(json.Number(text[e.start:e.end]))
			}
		}
		return nil
	})
	if err == nil && (!done || len(sc.frames) > 0) {
		err = errors.New("incomplete JSON")
	}
	if err != nil {
		return nil, fmt.Errorf("read the item: %w", err)
	}
	return root, nil
}
