package parsers

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/clbanning/mxj/v2"
	"github.com/hookgate/hookgate/configs"
	"go.uber.org/goleak"
	"golang.org/x/net/html/charset"
)

// testMaxBody is the max_body splitters are built for in tests: the
// default, so max_items_bytes is its default 40 MiB.
const testMaxBody = 10 * configs.MiB

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestMain sets mxj's package-global settings, in this one place: mxj is
// only the oracle the XML tests compare against, and it must decode the
// same encodings the parser does. The concurrent split tests must leave no
// goroutine behind.
func TestMain(m *testing.M) {
	mxj.XmlCharsetReader = charset.NewReaderLabel
	goleak.VerifyTestMain(m)
}

// result is what one split produced.
type result struct {
	items []string
	err   error
}

// splitWith runs one splitter over body and collects the items, checking the
// Item contract on the way.
func splitWith(t testing.TB, s *Splitter, ct string, body io.Reader) result {
	t.Helper()
	var res result
	res.err = s.Split(context.Background(), ct, body, func(it Item) error {
		res.items = append(res.items, string(it.Data))
		return nil
	})
	return res
}

// splitTransientWith is splitWith through SplitTransient: each item is
// copied before yield returns, as the contract requires.
func splitTransientWith(s *Splitter, ct string, body io.Reader) result {
	var res result
	res.err = s.SplitTransient(context.Background(), ct, body, func(it Item) error {
		res.items = append(res.items, string(it.Data))
		return nil
	})
	return res
}

// splitBoth splits body in full mode, in incremental mode, and in
// incremental mode one byte per Read, and through SplitTransient, and fails
// unless all four agree. It returns the full-mode result.
func splitBoth(t testing.TB, in configs.Incoming, ct string, body []byte) result {
	t.Helper()
	in.ReadMethod = "full"
	full, err := New(in, testMaxBody)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	in.ReadMethod = "incremental"
	inc, err := New(in, testMaxBody)
	if err != nil {
		t.Fatalf("New incremental: %v", err)
	}
	a := splitWith(t, full, ct, bytes.NewReader(body))
	b := splitWith(t, inc, ct, bytes.NewReader(body))
	c := splitWith(t, inc, ct, iotest.OneByteReader(bytes.NewReader(body)))
	// The gateway's way: each item copied during yield, then written over.
	d := splitTransientWith(inc, ct, iotest.HalfReader(bytes.NewReader(body)))
	for _, other := range []struct {
		name string
		res  result
	}{{"incremental", b}, {"incremental, one byte per read", c}, {"incremental transient", d}} {
		if !sameError(a.err, other.res.err) {
			t.Fatalf("full error %v, %s error %v", a.err, other.name, other.res.err)
		}
		if a.err == nil && !equalStrings(a.items, other.res.items) {
			t.Fatalf("full items %q\n%s items %q", a.items, other.name, other.res.items)
		}
		// Incremental mode may have yielded a prefix of the items before an error.
		if a.err != nil && len(a.items) > 0 {
			t.Fatalf("full mode yielded %d items and then failed with %v", len(a.items), a.err)
		}
	}
	return a
}

// wantSplit checks res against a table row: with status set, a rejection
// with that status and a message starting with msg; else exactly the items
// want.
func wantSplit(t testing.TB, res result, want []string, status int, msg string) {
	t.Helper()
	if status != 0 {
		wantErr(t, res.err, status, msg)
		return
	}
	if res.err != nil {
		t.Fatalf("error %v", res.err)
	}
	if !equalStrings(res.items, want) {
		t.Fatalf("items %q, want %q", res.items, want)
	}
}

func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var ea, eb *Error
	if errors.As(a, &ea) && errors.As(b, &eb) {
		return *ea == *eb
	}
	return a.Error() == b.Error()
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// wantErr checks a rejection's status and the start of its message.
func wantErr(t testing.TB, err error, status int, prefix string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got error %v, want *Error %d %q", err, status, prefix)
	}
	if e.Status != status || !strings.HasPrefix(e.Message, prefix) {
		t.Fatalf("got %d %q, want %d starting %q", e.Status, e.Message, status, prefix)
	}
}
