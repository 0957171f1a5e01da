package router

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/tidwall/gjson"
)

// A cel filter reads the item lazily: item is a jsonObject (or jsonArray,
// or a scalar) over the item's text, and only the fields the expression
// touches are found, by gjson, and converted. Decoding the whole item per
// evaluation would cost more than the evaluation itself. JSON numbers are
// CEL doubles, as in CEL's own JSON mapping (google.protobuf.Value).
//
// The item has passed readJSON: nested at most parsers.MaxDepth deep, so
// Equal and ConvertToNative, which follow the nesting, stay bounded.

var (
	_ traits.Mapper = (*jsonObject)(nil)
	_ traits.Lister = (*jsonArray)(nil)
	_ traits.Mapper = (*headerMap)(nil)
)

// jsonValue converts one gjson result to a CEL value; containers stay lazy.
func jsonValue(r gjson.Result) ref.Val {
	switch r.Type {
	case gjson.String:
		return types.String(r.Str)
	case gjson.Number:
		return types.Double(r.Num)
	case gjson.True:
		return types.True
	case gjson.False:
		return types.False
	case gjson.JSON:
		if r.IsArray() {
			return &jsonArray{raw: r.Raw}
		}
		return &jsonObject{raw: r.Raw}
	}
	return types.NullValue
}

// jsonObject is a JSON object as a CEL map(string, dyn).
type jsonObject struct {
	raw string
}

func (o *jsonObject) result() gjson.Result { return gjson.Result{Type: gjson.JSON, Raw: o.raw} }

// lookup finds key among the object's own keys (never as a gjson path:
// "a.b" or "#" are keys like any other).
func (o *jsonObject) lookup(key string) gjson.Result {
	if key != "" && !strings.ContainsAny(key, "\\") {
		return gjson.Get(o.raw, gjson.Escape(key))
	}
	var found gjson.Result
	o.result().ForEach(func(k, v gjson.Result) bool {
		if k.Str == key {
			found = v
			return false
		}
		return true
	})
	return found
}

func (o *jsonObject) Find(key ref.Val) (ref.Val, bool) {
	k, ok := key.(types.String)
	if !ok {
		return nil, false
	}
	r := o.lookup(string(k))
	if !r.Exists() {
		return nil, false
	}
	return jsonValue(r), true
}

func (o *jsonObject) Get(key ref.Val) ref.Val {
	if v, ok := o.Find(key); ok {
		return v
	}
	return types.NewErr("no such key: %v", key)
}

func (o *jsonObject) Contains(key ref.Val) ref.Val {
	_, ok := o.Find(key)
	return types.Bool(ok)
}

func (o *jsonObject) Size() ref.Val {
	n := 0
	o.result().ForEach(func(_, _ gjson.Result) bool { n++; return true })
	return types.Int(n)
}

func (o *jsonObject) Iterator() traits.Iterator {
	var keys []ref.Val
	o.result().ForEach(func(k, _ gjson.Result) bool {
		keys = append(keys, types.String(k.Str))
		return true
	})
	return &sliceIterator{vals: keys}
}

func (o *jsonObject) Equal(other ref.Val) ref.Val {
	m, ok := other.(traits.Mapper)
	if !ok {
		return types.False
	}
	if o.Size() != m.Size() {
		return types.False
	}
	eq := types.True
	o.result().ForEach(func(k, v gjson.Result) bool {
		ov, found := m.Find(types.String(k.Str))
		if !found || jsonValue(v).Equal(ov) != types.True {
			eq = types.False
			return false
		}
		return true
	})
	return eq
}

func (o *jsonObject) ConvertToNative(t reflect.Type) (any, error) { return decodeNative(o.raw, t) }

func (o *jsonObject) ConvertToType(t ref.Type) ref.Val {
	switch t {
	case types.MapType:
		return o
	case types.TypeType:
		return types.MapType
	}
	return types.NewErr("type conversion error from map to '%s'", t)
}

func (o *jsonObject) Type() ref.Type { return types.MapType }

func (o *jsonObject) Value() any {
	v, _ := decodeNative(o.raw, reflect.TypeFor[map[string]any]())
	return v
}

// jsonArray is a JSON array as a CEL list(dyn); its elements are found on
// first use.
type jsonArray struct {
	raw   string
	elems []gjson.Result
	found bool
}

func (a *jsonArray) all() []gjson.Result {
	if !a.found {
		a.elems, a.found = gjson.Result{Type: gjson.JSON, Raw: a.raw}.Array(), true
	}
	return a.elems
}

func (a *jsonArray) Get(index ref.Val) ref.Val {
	i, err := types.IndexOrError(index)
	if err != nil {
		return types.WrapErr(err)
	}
	es := a.all()
	if i < 0 || i >= len(es) {
		return types.NewErr("index out of range: %d", i)
	}
	return jsonValue(es[i])
}

func (a *jsonArray) Contains(v ref.Val) ref.Val {
	for _, e := range a.all() {
		if jsonValue(e).Equal(v) == types.True {
			return types.True
		}
	}
	return types.False
}

func (a *jsonArray) Size() ref.Val { return types.Int(len(a.all())) }

func (a *jsonArray) Iterator() traits.Iterator {
	es := a.all()
	vals := make([]ref.Val, len(es))
	for i, e := range es {
		vals[i] = jsonValue(e)
	}
	return &sliceIterator{vals: vals}
}

func (a *jsonArray) Add(other ref.Val) ref.Val {
	es := a.all()
	vals := make([]ref.Val, len(es))
	for i, e := range es {
		vals[i] = jsonValue(e)
	}
	return types.NewRefValList(types.DefaultTypeAdapter, vals).Add(other)
}

func (a *jsonArray) Equal(other ref.Val) ref.Val {
	l, ok := other.(traits.Lister)
	if !ok {
		return types.False
	}
	es := a.all()
	if types.Int(len(es)) != l.Size() {
		return types.False
	}
	for i, e := range es {
		if jsonValue(e).Equal(l.Get(types.Int(i))) != types.True {
			return types.False
		}
	}
	return types.True
}

func (a *jsonArray) ConvertToNative(t reflect.Type) (any, error) { return decodeNative(a.raw, t) }

func (a *jsonArray) ConvertToType(t ref.Type) ref.Val {
	switch t {
	case types.ListType:
		return a
	case types.TypeType:
		return types.ListType
	}
	return types.NewErr("type conversion error from list to '%s'", t)
}

func (a *jsonArray) Type() ref.Type { return types.ListType }

func (a *jsonArray) Value() any {
	v, _ := decodeNative(a.raw, reflect.TypeFor[[]any]())
	return v
}

// decodeNative decodes a container's JSON text into a Go value of type t,
// for functions that want native values.
func decodeNative(raw string, t reflect.Type) (any, error) {
	p := reflect.New(t)
	if err := json.Unmarshal([]byte(raw), p.Interface()); err != nil {
		return nil, fmt.Errorf("convert JSON to %v: %w", t, err)
	}
	return p.Elem().Interface(), nil
}

// headerMap is a task's headers as a CEL map(string, string): a name maps
// to its first value. Names are matched exactly first, then ignoring case,
// as HTTP does (forward_headers keeps the name written in the config).
type headerMap struct {
	h map[string][]string
}

func (m *headerMap) value(name string) (string, bool) {
	if vs, ok := m.h[name]; ok && len(vs) > 0 {
		return vs[0], true
	}
	for k, vs := range m.h {
		if len(vs) > 0 && strings.EqualFold(k, name) {
			return vs[0], true
		}
	}
	return "", false
}

func (m *headerMap) Find(key ref.Val) (ref.Val, bool) {
	k, ok := key.(types.String)
	if !ok {
		return nil, false
	}
	v, ok := m.value(string(k))
	if !ok {
		return nil, false
	}
	return types.String(v), true
}

func (m *headerMap) Get(key ref.Val) ref.Val {
	if v, ok := m.Find(key); ok {
		return v
	}
	return types.NewErr("no such key: %v", key)
}

func (m *headerMap) Contains(key ref.Val) ref.Val {
	_, ok := m.Find(key)
	return types.Bool(ok)
}

func (m *headerMap) Size() ref.Val {
	n := 0
	for _, vs := range m.h {
		if len(vs) > 0 {
			n++
		}
	}
	return types.Int(n)
}

func (m *headerMap) Iterator() traits.Iterator {
	keys := make([]ref.Val, 0, len(m.h))
	for k, vs := range m.h {
		if len(vs) > 0 {
			keys = append(keys, types.String(k))
		}
	}
	return &sliceIterator{vals: keys}
}

func (m *headerMap) Equal(other ref.Val) ref.Val {
	om, ok := other.(traits.Mapper)
	if !ok || m.Size() != om.Size() {
		return types.False
	}
	for k, vs := range m.h {
		if len(vs) == 0 {
			continue
		}
		ov, found := om.Find(types.String(k))
		if !found || types.String(vs[0]).Equal(ov) != types.True {
			return types.False
		}
	}
	return types.True
}

func (m *headerMap) ConvertToNative(t reflect.Type) (any, error) {
	flat := make(map[string]string, len(m.h))
	for k, vs := range m.h {
		if len(vs) > 0 {
			flat[k] = vs[0]
		}
	}
	if reflect.TypeOf(flat).AssignableTo(t) {
		return flat, nil
	}
	return nil, fmt.Errorf("convert headers to %v: unsupported type", t)
}

func (m *headerMap) ConvertToType(t ref.Type) ref.Val {
	switch t {
	case types.MapType:
		return m
	case types.TypeType:
		return types.MapType
	}
	return types.NewErr("type conversion error from map to '%s'", t)
}

func (m *headerMap) Type() ref.Type { return types.MapType }

func (m *headerMap) Value() any {
	v, _ := m.ConvertToNative(reflect.TypeFor[map[string]string]())
	return v
}

// sliceIterator walks values collected in advance.
type sliceIterator struct {
	vals []ref.Val
	i    int
}

func (it *sliceIterator) HasNext() ref.Val { return types.Bool(it.i < len(it.vals)) }

func (it *sliceIterator) Next() ref.Val {
	if it.i >= len(it.vals) {
		return types.NewErr("iterator past its end")
	}
	v := it.vals[it.i]
	it.i++
	return v
}

func (it *sliceIterator) ConvertToNative(t reflect.Type) (any, error) {
	return nil, fmt.Errorf("an iterator has no native value (%v)", t)
}

func (it *sliceIterator) ConvertToType(ref.Type) ref.Val {
	return types.NewErr("an iterator converts to no type")
}

func (it *sliceIterator) Equal(ref.Val) ref.Val { return types.False }
func (it *sliceIterator) Type() ref.Type        { return types.IteratorType }
func (it *sliceIterator) Value() any            { return nil }
