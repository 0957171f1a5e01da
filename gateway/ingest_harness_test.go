package gateway

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// ingestClient posts one body to one handler over and over: the request is
// built once and each post only rewinds its body and clears the writer, so
// that allocs/op counts the handler's allocations, not the harness's.
type ingestClient struct {
	h    http.Handler
	req  *http.Request
	raw  []byte
	body rewindBody
	w    ingestWriter
}

// rewindBody is a request body that Reset rewinds to the same bytes; Close
// is a no-op, so no io.NopCloser is allocated per request.
type rewindBody struct{ bytes.Reader }

// Close does nothing: the bytes are reused by the next request.
func (*rewindBody) Close() error { return nil }

// ingestWriter is a reusable http.ResponseWriter: reset clears its header
// map (keeping its buckets), status and body buffer.
type ingestWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

var _ http.ResponseWriter = (*ingestWriter)(nil)

// Header returns the response header map, cleared before every request.
func (w *ingestWriter) Header() http.Header { return w.header }

// WriteHeader records the first status, as net/http does.
func (w *ingestWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

// Write appends to the body, implying 200 when no status was written.
func (w *ingestWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

func (w *ingestWriter) reset() {
	clear(w.header)
	w.status = 0
	w.body.Reset()
}

// newIngestClient builds the POST of body to path, as a server would hand
// it to the handler (Content-Type, ContentLength, RemoteAddr, RequestURI).
func newIngestClient(b testing.TB, h http.Handler, path, contentType string, body []byte) *ingestClient {
	b.Helper()
	c := &ingestClient{h: h, raw: body, w: ingestWriter{header: make(http.Header)}}
	c.body.Reset(body)
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:8080"+path, &c.body)
	if err != nil {
		b.Fatalf("bench request for %s: %v", path, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.ContentLength = int64(len(body))
	req.RemoteAddr = "127.0.0.1:50123"
	req.RequestURI = path
	c.req = req
	return c
}

// post serves the request once and fails b unless the answer is 200.
func (c *ingestClient) post(b testing.TB) {
	c.body.Reset(c.raw)
	c.req.Body = &c.body // in case a handler wrapped it (http.MaxBytesReader)
	c.w.reset()
	c.h.ServeHTTP(&c.w, c.req)
	if c.w.status != http.StatusOK {
		b.Fatalf("POST %s: status %d: %s", c.req.RequestURI, c.w.status, c.w.body.Bytes())
	}
}

// envelope builds SPEC §7 header sets as cheaply as a publisher can, so
// that the baseline-envelope cases are fair: the per-webhook values once,
// the per-request values in one string per run, the per-item ids in one
// string per item, and one []string backing all of a message's values.
type envelope struct {
	name, source, ceType string // identifier and incoming name are both name
}

func newEnvelope(name string) *envelope {
	return &envelope{name: name, source: "/webhooks/" + name, ceType: "hookgate." + name}
}

// envelopeRun holds the values that every item of one request shares.
type envelopeRun struct {
	env                     *envelope
	requestID, ceTime       string
	ceIDPrefix, msgIDPrefix string // "<id>-<incoming>-", "<identifier>/<incoming>/<id>/"
	count                   string
}

// run returns the shared values of request number run (its request id is
// unique per run, so JetStream de-duplicates nothing) with count items.
func (e *envelope) run(run, count int) envelopeRun {
	var buf [256]byte
	s := append(buf[:0], "019ab7c2-0000-7000-8000-"...)
	var num [20]byte
	digits := strconv.AppendInt(num[:0], int64(run), 10)
	for i := len(digits); i < 12; i++ {
		s = append(s, '0')
	}
	s = append(s, digits...)
	idEnd := len(s)
	s = append(append(append(s, '-'), e.name...), '-')
	ceIDEnd := len(s)
	s = append(append(append(append(s, e.name...), '/'), e.name...), '/')
	s = append(append(s, s[:idEnd]...), '/')
	msgIDEnd := len(s)
	s = time.Now().UTC().AppendFormat(s, time.RFC3339Nano)
	timeEnd := len(s)
	s = strconv.AppendInt(s, int64(count), 10)
	all := string(s) // the run's one allocation
	return envelopeRun{
		env: e, requestID: all[:idEnd], ceIDPrefix: all[:ceIDEnd], msgIDPrefix: all[ceIDEnd:msgIDEnd],
		ceTime: all[msgIDEnd:timeEnd], count: all[timeEnd:],
	}
}

// msg is item idx of the run on subject, with all 12 headers of SPEC §7.
func (r *envelopeRun) msg(subject string, idx int, data []byte) *nats.Msg {
	var buf [256]byte
	s := append(buf[:0], r.ceIDPrefix...)
	s = strconv.AppendInt(s, int64(idx), 10)
	ceIDEnd := len(s)
	s = append(s, r.msgIDPrefix...)
	s = strconv.AppendInt(s, int64(idx), 10)
	ids := string(s) // ce-id and Nats-Msg-Id share one allocation
	index := ids[ceIDEnd+len(r.msgIDPrefix):]

	v := make([]string, 12)
	v[0], v[1], v[2], v[3], v[4], v[5] = "1.0", ids[:ceIDEnd], r.env.source, r.env.ceType, r.ceTime, "application/json"
	v[6], v[7], v[8], v[9], v[10], v[11] = r.env.name, r.env.name, r.requestID, index, r.count, ids[ceIDEnd:]
	return &nats.Msg{Subject: subject, Data: data, Header: nats.Header{
		"ce-specversion": v[0:1:1], "ce-id": v[1:2:2], "ce-source": v[2:3:3], "ce-type": v[3:4:4],
		"ce-time": v[4:5:5], "content-type": v[5:6:6], "ce-webhook": v[6:7:7], "ce-incoming": v[7:8:8],
		"ce-requestid": v[8:9:9], "ce-itemindex": v[9:10:10], "ce-itemcount": v[10:11:11], nats.MsgIdHdr: v[11:12:12],
	}}
}

// TestIngestHarness checks the harness the ingest benchmarks rely on: it
// allocates nothing per post, and every post sees the whole body afresh.
func TestIngestHarness(t *testing.T) {
	body := json1KiB()
	var got int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	})
	c := newIngestClient(t, h, "/webhooks/orders", "application/json", body)
	if allocs := testing.AllocsPerRun(100, func() { c.post(t) }); allocs != 0 {
		t.Errorf("harness allocates %v per post, want 0", allocs)
	}
	if got != int64(len(body)) {
		t.Errorf("the last post read %d body bytes, want %d", got, len(body))
	}
	if r := c.req; r.Header.Get("Content-Type") != "application/json" || r.ContentLength != int64(len(body)) || r.RemoteAddr == "" {
		t.Errorf("request is %q, length %d, from %q; want application/json, %d, a remote address", r.Header.Get("Content-Type"), r.ContentLength, r.RemoteAddr, len(body))
	}
}

// TestBaselineEnvelope checks that the baselines' cheap envelope is still
// the SPEC §7 one, with ids unique per run and item.
func TestBaselineEnvelope(t *testing.T) {
	env := newEnvelope("erp")
	r7, r8 := env.run(7, 2000), env.run(8, 2000)
	tests := []struct {
		name   string
		msg    *nats.Msg
		header string
		want   string
	}{
		{"ce-id joins request id, incoming and index", r7.msg("s", 1234, nil), "ce-id", "019ab7c2-0000-7000-8000-000000000007-erp-1234"},
		{"Nats-Msg-Id joins identifier, incoming, request id and index", r7.msg("s", 1234, nil), nats.MsgIdHdr, "erp/erp/019ab7c2-0000-7000-8000-000000000007/1234"},
		{"another run has another Nats-Msg-Id", r8.msg("s", 0, nil), nats.MsgIdHdr, "erp/erp/019ab7c2-0000-7000-8000-000000000008/0"},
		{"item index is the index alone", r7.msg("s", 1234, nil), "ce-itemindex", "1234"},
		{"item count is the run's", r7.msg("s", 0, nil), "ce-itemcount", "2000"},
		{"request id", r7.msg("s", 0, nil), "ce-requestid", "019ab7c2-0000-7000-8000-000000000007"},
		{"source is the webhook path", r7.msg("s", 0, nil), "ce-source", "/webhooks/erp"},
		{"type", r7.msg("s", 0, nil), "ce-type", "hookgate.erp"},
		{"webhook", r7.msg("s", 0, nil), "ce-webhook", "erp"},
		{"incoming", r7.msg("s", 0, nil), "ce-incoming", "erp"},
		{"spec version", r7.msg("s", 0, nil), "ce-specversion", "1.0"},
		{"content type", r7.msg("s", 0, nil), "content-type", "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.msg.Header[tt.header]; len(got) != 1 || got[0] != tt.want {
				t.Errorf("%s = %q, want [%q]", tt.header, got, tt.want)
			}
			if n := len(tt.msg.Header); n != 12 {
				t.Errorf("%d headers, want the 12 of SPEC §7", n)
			}
		})
	}
	if _, err := time.Parse(time.RFC3339Nano, r7.ceTime); err != nil {
		t.Errorf("ce-time %q: %v", r7.ceTime, err)
	}
	// Appending to one header's value must not overwrite the next one's.
	m := r7.msg("s", 1, nil)
	m.Header["ce-id"] = append(m.Header["ce-id"], "x")
	if got := m.Header["ce-source"][0]; got != "/webhooks/erp" {
		t.Errorf("appending to ce-id changed ce-source to %q", got)
	}
}
