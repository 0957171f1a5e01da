package router

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/parsers"
)

// step is one compiled transform step; it returns the new item.
type step func(item []byte) ([]byte, error)

// transform applies its steps in order.
type transform []step

// compileTransform builds the steps of a route; keys are applied in the
// order written in YAML, which is the order configs.Transform keeps.
func compileTransform(ts []configs.Transform) (transform, error) {
	out := make(transform, 0, len(ts))
	for i, t := range ts {
		n := 0
		if t.Map != nil {
			n++
		}
		if t.Set != nil {
			n++
		}
		if t.Rename != nil {
			n++
		}
		if t.Remove != nil {
			n++
		}
		if t.JQ != "" {
			n++
		}
		if n != 1 {
			return nil, fmt.Errorf("transform[%d]: %d steps set; set exactly one of map, set, rename, remove, jq", i, n)
		}
		switch {
		case t.JQ != "":
			code, q, err := configs.CompileJQ(t.JQ)
			if err != nil {
				return nil, fmt.Errorf("transform[%d].jq: %w", i, err)
			}
			keep, _ := jqRootKeys(q) // nil: decode every key
			out = append(out, jqStep(i, code, keep, jqTimeout))
		case t.Map != nil:
			out = append(out, mapStep(slices.Clone(t.Map)))
		case t.Set != nil:
			for _, kv := range t.Set {
				if !json.Valid(kv.JSON) {
					return nil, fmt.Errorf("transform[%d].set.%s: value is not valid JSON; write a YAML scalar, list or map", i, kv.Key)
				}
			}
			out = append(out, setStep(slices.Clone(t.Set)))
		case t.Rename != nil:
			out = append(out, renameStep(slices.Clone(t.Rename)))
		default:
			out = append(out, removeStep(slices.Clone(t.Remove)))
		}
	}
	return out, nil
}

// apply runs every step on item, which readJSON has checked. No step
// writes into its input (sjson is called without ReplaceInPlace, jq builds
// new values and encodes them), so the task body stays intact for the dead
// letters without a copy per task. Each step's output is bounded by limit
// bytes (a map can copy the item once per key), and the result is checked
// as readJSON checks a task,
// so that what format xml or the destination reads is JSON nested at most
// parsers.MaxDepth deep (set and rename add the depth of their paths).
func (t transform) apply(item []byte, limit int) ([]byte, error) {
	if len(t) == 0 {
		return item, nil
	}
	cur := item
	for i, s := range t {
		next, err := s(cur)
		var u *unreadable
		if errors.As(err, &u) {
			return nil, err // it names its step already
		}
		if err != nil {
			return nil, fmt.Errorf("transform[%d]: %w", i, err)
		}
		if len(next) > limit {
			return nil, &unreadable{step: "transform", reason: tooLarge(limit)}
		}
		cur = next
	}
	if err := parsers.CheckJSON(cur); errors.Is(err, parsers.ErrTooDeep) {
		return nil, &unreadable{step: "transform", reason: fmt.Sprintf("the result is nested deeper than %d", parsers.MaxDepth)}
	} else if err != nil {
		return nil, &unreadable{step: "transform", reason: "the result is not valid JSON (" + err.Error() + ")"}
	}
	return cur, nil
}

// raw is the JSON text of a gjson result; results computed by modifiers or
// multipaths may have no Raw and are encoded from their value.
func raw(r gjson.Result) (string, error) {
	if r.Raw != "" {
		return r.Raw, nil
	}
	b, err := json.Marshal(r.Value())
	return string(b), err
}

// mapStep builds a new object: each key (an sjson path) gets the value at
// its gjson path on the current item; a path that matches nothing is left out.
func mapStep(kvs []configs.KeyValue) step {
	return func(item []byte) ([]byte, error) {
		out := []byte("{}")
		for _, kv := range kvs {
			r := gjson.GetBytes(item, kv.Value)
			if !r.Exists() {
				continue
			}
			v, err := raw(r)
			if err != nil {
				return nil, fmt.Errorf("map %s: %w", kv.Key, err)
			}
			if out, err = sjson.SetRawBytes(out, kv.Key, []byte(v)); err != nil {
				return nil, fmt.Errorf("map %s: %w", kv.Key, err)
			}
		}
		return out, nil
	}
}

// setStep sets constants at sjson paths.
func setStep(kvs []configs.KeyJSON) step {
	return func(item []byte) ([]byte, error) {
		var err error
		for _, kv := range kvs {
			if item, err = sjson.SetRawBytes(item, kv.Key, kv.JSON); err != nil {
				return nil, fmt.Errorf("set %s: %w", kv.Key, err)
			}
		}
		return item, nil
	}
}

// renameStep moves the value at each old key to its new key; a missing old
// key is skipped.
func renameStep(kvs []configs.KeyValue) step {
	return func(item []byte) ([]byte, error) {
		for _, kv := range kvs {
			r := gjson.GetBytes(item, kv.Key)
			if !r.Exists() {
				continue
			}
			v, err := raw(r)
			if err != nil {
				return nil, fmt.Errorf("rename %s: %w", kv.Key, err)
			}
			if item, err = sjson.DeleteBytes(item, kv.Key); err != nil {
				return nil, fmt.Errorf("rename %s: %w", kv.Key, err)
			}
			if item, err = sjson.SetRawBytes(item, kv.Value, []byte(v)); err != nil {
				return nil, fmt.Errorf("rename %s to %s: %w", kv.Key, kv.Value, err)
			}
		}
		return item, nil
	}
}

// removeStep deletes keys; a missing key is not an error.
func removeStep(keys []string) step {
	return func(item []byte) ([]byte, error) {
		var err error
		for _, k := range keys {
			if item, err = sjson.DeleteBytes(item, k); err != nil {
				return nil, fmt.Errorf("remove %s: %w", k, err)
			}
		}
		return item, nil
	}
}
