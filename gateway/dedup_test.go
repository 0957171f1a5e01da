package gateway

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

func sha256Of(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// readTestBody reads raw as the handler does: in memory up to 1 MiB,
// spooled above.
func readTestBody(t *testing.T, raw []byte) *body {
	t.Helper()
	b, err := readBody(bytes.NewReader(raw), 64<<20, int64(len(raw)), spooler{dir: t.TempDir(), max: 1 << 40, budget: new(budget)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestDedupKey(t *testing.T) {
	long := strings.Repeat("k", 257)
	at256 := strings.Repeat("k", 256)
	pad := strings.Repeat(" ", 2<<20) // spools the body, pushes what follows past 1 MiB
	deep := strings.Repeat("[", 1<<20) + strings.Repeat("]", 1<<20)
	cases := []struct {
		name, spec string
		header     http.Header
		body       string
		want       string
	}{
		{"a header key is used as it is", "header:X-Delivery", http.Header{"X-Delivery": {"d-1"}}, "", "d-1"},
		{"a header key of 256 bytes is used as it is", "header:X-Delivery", http.Header{"X-Delivery": {at256}}, "", at256},
		{"a header key of 257 bytes is hashed", "header:X-Delivery", http.Header{"X-Delivery": {long}}, "", sha256Of(long)},
		{"a body key is used as it is", "body:id", nil, `{"id":"evt_1"}`, "evt_1"},
		{"a body key longer than 256 bytes is hashed", "body:id", nil, `{"id":"` + long + `"}`, sha256Of(long)},
		{"a body key that is an object is its JSON, hashed when long", "body:data", nil, `{"data":{"k":"` + long + `"}}`, sha256Of(`{"k":"` + long + `"}`)},
		{"a spooled body's key in its first MiB is found", "body:id", nil, `{"id":"evt_2",` + pad + `"x":1}`, "evt_2"},
		{"a spooled body's key past its first MiB is not read", "body:id", nil, `{"x":1,` + pad + `"id":"evt_3"}`, ""},
		{"a path with a modifier does not run on a body deeper than 512", "body:@pretty", nil, deep, ""},
		{"a path with a modifier runs on a shallow body", "body:@this.id", nil, `{"id":"evt_5"}`, "evt_5"},
		{"no key", "", nil, `{"id":"evt_6"}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := parseDedupKey(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.value(tc.header, readTestBody(t, []byte(tc.body))); got != tc.want {
				if len(got) > 80 {
					got = got[:80] + "…"
				}
				t.Errorf("key %q, want %q", got, tc.want)
			}
		})
	}
}

// TestDedupKeyOfASpooledBodyReadsAMiB: the key is looked up in the first
// MiB only, whatever the body's size.
func TestDedupKeyOfASpooledBodyReadsAMiB(t *testing.T) {
	b := readTestBody(t, []byte(`{"id":"evt_1","pad":"`+strings.Repeat("p", 8<<20)+`"}`))
	d, _ := parseDedupKey("body:id")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	if got := d.value(nil, b); got != "evt_1" {
		t.Fatalf("key %q", got)
	}
	runtime.ReadMemStats(&ms)
	if grown := ms.TotalAlloc - before; grown > 4<<20 {
		t.Errorf("looking the key up allocated %d bytes for an 8 MiB body", grown)
	}
}

// TestDedupKeyDoesNotRecurseOnDeepBodies: gjson walks past values it does
// not select without recursion (parseSquash), and recurses only as deep as
// the path; its modifiers (@pretty, @valid, @flatten) recurse once per
// level of the document, so they run only on documents at most 512 deep.
// A recursion per level of this body would grow the stack by tens of MB.
func TestDedupKeyDoesNotRecurseOnDeepBodies(t *testing.T) {
	const levels = 400_000 // 800 KB: in memory
	doc := []byte(`{"a":` + strings.Repeat("[", levels) + strings.Repeat("]", levels) + `,"id":"evt_1"}`)
	b := readTestBody(t, doc)
	for _, tc := range []struct{ spec, want string }{
		{"body:id", "evt_1"},
		{"body:a.0.0.0", ""},
		{"body:@pretty", ""},
		{"body:@valid", ""},
		{`body:@flatten:{"deep":true}`, ""},
		{"body:a|@ugly", ""},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			d, err := parseDedupKey(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			var grown uint64
			done := make(chan struct{})
			go func() { // a fresh goroutine, whose stack shows the recursion
				defer close(done)
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				before := ms.StackInuse
				got = d.value(nil, b)
				runtime.ReadMemStats(&ms)
				grown = ms.StackInuse - min(ms.StackInuse, before)
			}()
			<-done
			if grown > 4<<20 {
				t.Errorf("the stack grew by %d bytes", grown)
			}
			if tc.want != "" && got != tc.want {
				t.Errorf("key %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDeeperThan(t *testing.T) {
	cases := []struct {
		doc   string
		limit int
		want  bool
	}{
		{`[[1]]`, 2, false},
		{`[[[1]]]`, 2, true},
		{`{"a":{"b":[]}}`, 3, false},
		{`{"a":"[[[[[[","b":"\"[[["}`, 1, false},
		{`[1],[2],[3]`, 1, false},
	}
	for _, tc := range cases {
		if got := deeperThan([]byte(tc.doc), tc.limit); got != tc.want {
			t.Errorf("deeperThan(%s, %d) = %v, want %v", tc.doc, tc.limit, got, tc.want)
		}
	}
}
