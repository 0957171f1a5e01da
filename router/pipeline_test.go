package router

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
)

// testPair is a pair of route rt to an outgoing of the given format, with
// the given output limit; no NATS behind it, prepare needs none.
func testPair(t testing.TB, rt configs.Route, format string, limit int) *pair {
	t.Helper()
	f, err := compileFilter(rt.Filter)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := compileTransform(rt.Transform)
	if err != nil {
		t.Fatal(err)
	}
	out := configs.Outgoing{Name: "o", URL: "http://127.0.0.1/", Format: format}.WithDefaults()
	return &pair{route: &route{name: "r", filter: f, transform: tr}, dest: &destination{cfg: out}, maxOutput: limit}
}

var (
	withFilter    = configs.Route{Filter: []configs.Condition{{Path: "status", NotEquals: ptr("draft")}}}
	withTransform = configs.Route{Transform: []configs.Transform{{Set: []configs.KeyJSON{{Key: "seen", JSON: []byte("true")}}}}}
)

// SPEC §11: a task a route cannot read is a dead letter naming the step.
func TestPrepareRefusesWhatARouteCannotRead(t *testing.T) {
	deep := bytes.Repeat([]byte("["), 8<<20)
	tests := []struct {
		name   string
		rt     configs.Route
		format string
		limit  int
		body   []byte
		want   string
	}{
		{"8MB of [ through a filter", withFilter, "json", 16 << 20, deep, "filter: nesting deeper than 512"},
		{"8MB of [ through a transform", withTransform, "json", 16 << 20, deep, "transform: nesting deeper than 512"},
		{"8MB of [ through format xml", configs.Route{}, "xml", 16 << 20, deep, "format xml: nesting deeper than 512"},
		{"deep objects through a filter and a transform name the filter", configs.Route{Filter: withFilter.Filter, Transform: withTransform.Transform},
			"xml", 1 << 20, []byte(strings.Repeat(`{"a":`, 513) + "1" + strings.Repeat("}", 513)), "filter: nesting deeper than 512"},
		{"text through a transform", withTransform, "json", 1 << 20, []byte("hello world"),
			"transform: the task body is not valid JSON (invalid JSON at line 1, column 1: unexpected character 'h', expecting a value)"},
		{"invalid UTF-8 through a filter", withFilter, "json", 1 << 20, []byte("{\"status\":\"\xff\"}"),
			"filter: the task body is not valid JSON (invalid JSON at line 1, column 12: invalid UTF-8 in string)"},
		{"XML through format xml", configs.Route{}, "xml", 1 << 20, []byte("<a/>"),
			"format xml: the task body is not valid JSON (invalid JSON at line 1, column 1: unexpected character '<', expecting a value)"},
		{"a map that copies the item past the limit", configs.Route{Transform: []configs.Transform{{Map: []configs.KeyValue{{Key: "a", Value: "@this"}, {Key: "b", Value: "@this"}}}}},
			"json", 1000, []byte(`{"x":"` + strings.Repeat("y", 600) + `"}`), "transform: output larger than 1000B, the NATS max payload"},
		{"a long key over many nulls past the limit in xml", configs.Route{}, "xml", 1 << 20,
			[]byte(`{"` + strings.Repeat("k", 4096) + `":[` + strings.Repeat("null,", 1000) + `null]}`), "format xml: output larger than 1MiB, the NATS max payload"},
		{"a key that is no XML name", configs.Route{}, "xml", 1 << 20, []byte(`{"a b":1}`), `format xml: key "a b" is not a valid XML element name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPair(t, tt.rt, tt.format, tt.limit)
			in := bytes.Clone(tt.body)
			body, _, keep, err := p.prepare(tt.body, taskHeaders("text/plain"))
			var u *unreadable
			if !errors.As(err, &u) || err.Error() != tt.want {
				t.Fatalf("prepare = %.60q, keep %v, error %v; want the unreadable %q", body, keep, err, tt.want)
			}
			if keep || body != nil {
				t.Errorf("prepare kept %.60q with an error", body)
			}
			if !bytes.Equal(in, tt.body) {
				t.Error("the task body was changed")
			}
		})
	}
}

func TestPrepareDeliversWhatItCanRead(t *testing.T) {
	tests := []struct {
		name, format, taskType, body string
		rt                           configs.Route
		keep                         bool
		wantBody, wantType           string
	}{
		{name: "a raw task with nothing to do passes through unchanged", format: "json", taskType: "text/plain",
			body: "not \xff JSON [[[", keep: true, wantBody: "not \xff JSON [[[", wantType: "text/plain"},
		{name: "a JSON task with nothing to do passes through unchanged", format: "json", taskType: "application/json",
			body: `{"a": 1}`, keep: true, wantBody: `{"a": 1}`, wantType: "application/json"},
		{name: "a raw task passing a filter keeps its body and type", format: "json", taskType: "text/plain", rt: withFilter,
			body: "\xef\xbb\xbf{\"status\":\"ok\"}", keep: true, wantBody: "\xef\xbb\xbf{\"status\":\"ok\"}", wantType: "text/plain"},
		{name: "a task the filter drops", format: "json", taskType: "application/json", rt: withFilter,
			body: `{"status":"draft"}`, keep: false},
		{name: "a raw JSON task with a BOM is transformed", format: "json", taskType: "text/plain", rt: withTransform,
			body: "\xef\xbb\xbf{\"a\":1}", keep: true, wantBody: `{"a":1,"seen":true}`, wantType: "application/json"},
		{name: "512 levels are read", format: "xml", taskType: "application/json",
			body: strings.Repeat(`{"a":`, 512) + "1" + strings.Repeat("}", 512), keep: true,
			wantBody: "<item>" + strings.Repeat("<a>", 511) + "<a>1</a>" + strings.Repeat("</a>", 511) + "</item>", wantType: "application/xml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPair(t, tt.rt, tt.format, 1<<20)
			body, ct, keep, err := p.prepare([]byte(tt.body), taskHeaders(tt.taskType))
			if err != nil || keep != tt.keep || string(body) != tt.wantBody || ct != tt.wantType {
				t.Errorf("prepare = %q %q keep %v err %v; want %q %q keep %v", body, ct, keep, err, tt.wantBody, tt.wantType, tt.keep)
			}
		})
	}
}

// The XML encoder is linear: a deep item holding a large array costs its
// size, not its size times its depth (the gjson walk it replaced rescanned
// every level: seconds for 16MiB).
func BenchmarkEncodeXMLDeep16MiB(b *testing.B) {
	item := []byte(strings.Repeat(`{"a":`, 511) + "[")
	for len(item) < 16<<20-4096 {
		item = strconv.AppendInt(item, 1, 10)
		item = append(item, ',')
	}
	item = append(item, "1]"+strings.Repeat("}", 511)...)
	b.SetBytes(int64(len(item)))
	for b.Loop() {
		if _, err := encodeXML(item, "item", 128<<20); err != nil {
			b.Fatal(err)
		}
	}
}

// Through NATS: an unreadable task is dead-lettered on its first delivery,
// never retried, and the consumer goes on delivering.
func TestUnreadableTaskIsADeadLetterAtOnce(t *testing.T) {
	js := startJS(t)
	rc := newReceiver(t, nil)
	startRouter(t, testConfig(withTransform, testOutgoing("o", rc.URL)), js)
	publishTask(t, js, "tasks.orders", "req-orders-0", strings.Repeat("[", 100000))
	dl := nextDeadLetter(t, js, bus.DLQSubject("r", "o"))
	if e, a, s := dl.Headers().Get(bus.HeaderError), dl.Headers().Get(bus.HeaderAttempts), dl.Headers().Get(bus.HeaderStatus); e != "transform: nesting deeper than 512" || a != "1" || s != "0" {
		t.Errorf("dead letter error %q, attempts %s, status %s; want the transform's refusal on attempt 1, status 0", e, a, s)
	}
	if len(dl.Data()) != 100000 {
		t.Errorf("dead letter body of %d bytes, want the task's 100000", len(dl.Data()))
	}
	publishTask(t, js, "tasks.orders", "req-orders-1", `{"n":1}`)
	if a := rc.wait(t, 1)[0]; a.body != `{"n":1,"seen":true}` {
		t.Errorf("next task delivered as %q", a.body)
	}
	settled(t, js, "r", "o")
	if n := rc.count(); n != 1 {
		t.Errorf("%d deliveries, want 1", n)
	}
}

// taskHeaders are the headers of a task of the given type ("" for none).
func taskHeaders(taskType string) map[string][]string {
	if taskType == "" {
		return map[string][]string{}
	}
	return map[string][]string{"content-type": {taskType}}
}
