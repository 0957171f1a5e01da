package router

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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
func jqStep(i int, code *gojq.Code, timeout time.Duration) step {
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
		v, err := decodeJQ(item)
		if err != nil {
			return nil, fail("%v", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
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

// decodeJQ turns the item's JSON into gojq's values: map[string]any,
// []any, string, bool, nil, and json.Number for numbers, which gojq
// computes with and writes back exactly as the item had them (a 20-digit
// id stays intact). One pass over scanJSON's tokens, without reflection
// and without recursion: about 2.5 times faster than encoding/json with
// UseNumber (BenchmarkTransformReshape). Strings and numbers without
// escapes are the item's own bytes, not copies: the task body is never
// written to (see pair.prepare) and what gojq makes of them is encoded,
// which copies it, before the step returns. item has passed readJSON.
func decodeJQ(item []byte) (any, error) {
	text := unsafe.String(unsafe.SliceData(item), len(item))
	str := func(e jsonEvent) string {
		inner := text[e.start+1 : e.end-1]
		if strings.IndexByte(inner, '\\') >= 0 {
			return unquote(item[e.start:e.end])
		}
		return inner
	}
	type frame struct {
		obj map[string]any
		arr []any
		key string
	}
	var (
		stack []frame
		root  any
		done  bool
	)
	put := func(v any) {
		if len(stack) == 0 {
			root, done = v, true
			return
		}
		top := &stack[len(stack)-1]
		if top.obj != nil {
			top.obj[top.key] = v
		} else {
			top.arr = append(top.arr, v)
		}
	}
	err := scanJSON(item, func(e jsonEvent) error {
		switch e.kind {
		case '{':
			stack = append(stack, frame{obj: map[string]any{}})
		case '[':
			stack = append(stack, frame{arr: []any{}})
		case '}', ']':
			if len(stack) == 0 {
				return errors.New("unbalanced JSON")
			}
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if top.obj != nil {
				put(top.obj)
			} else {
				put(top.arr)
			}
		case 'k':
			stack[len(stack)-1].key = str(e)
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
	if err == nil && (!done || len(stack) > 0) {
		err = errors.New("incomplete JSON")
	}
	if err != nil {
		return nil, fmt.Errorf("read the item: %w", err)
	}
	return root, nil
}
