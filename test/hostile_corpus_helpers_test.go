package test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.yaml.in/yaml/v3"
)

// corpusDir holds the hostile corpus: its manifest and its small files.
const corpusDir = "testdata/hostile"

// corpus is testdata/hostile/cases.yaml; its header comment says what
// each field means.
type corpus struct {
	Webhooks map[string]corpusWebhook `yaml:"webhooks"`
	Cases    []corpusCase             `yaml:"cases"`
}

// corpusWebhook is one webhook of the generated config, named by its key.
type corpusWebhook struct {
	Webhook  map[string]any `yaml:"webhook"`
	Incoming map[string]any `yaml:"incoming"`
	Route    map[string]any `yaml:"route"`
	Outgoing string         `yaml:"outgoing"`
}

type corpusCase struct {
	Name        string       `yaml:"name"`
	File        string       `yaml:"file"`
	Body        []corpusPart `yaml:"body"`
	Webhook     string       `yaml:"webhook"`
	ContentType string       `yaml:"content_type"`
	Send        string       `yaml:"send"`
	Sent        int          `yaml:"sent"`
	Trickle     struct {
		Bytes int           `yaml:"bytes"`
		Every time.Duration `yaml:"every"`
	} `yaml:"trickle"`
	Want corpusWant `yaml:"want"`
}

type corpusWant struct {
	Status     int    `yaml:"status"`
	Error      string `yaml:"error"`
	Published  *int   `yaml:"published"`
	Tasks      int    `yaml:"tasks"`
	DeadLetter string `yaml:"dead_letter"`
}

// corpusPart is a piece of a body recipe: text, hex bytes, a file of the
// corpus or parts, repeated.
type corpusPart struct {
	Text   string       `yaml:"text"`
	Hex    string       `yaml:"hex"`
	File   string       `yaml:"file"`
	Repeat int          `yaml:"repeat"`
	Parts  []corpusPart `yaml:"parts"`
}

// loadCorpus reads the manifest strictly (an unknown key is a typo) and
// checks that every case names a webhook of it and every committed file is
// small.
func loadCorpus(t *testing.T) corpus {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(corpusDir, "cases.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var c corpus
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("cases.yaml: %v", err)
	}
	names := map[string]bool{}
	for _, tc := range c.Cases {
		if _, ok := c.Webhooks[tc.Webhook]; !ok {
			t.Fatalf("case %q: webhook %q is not in cases.yaml", tc.Name, tc.Webhook)
		}
		if names[tc.Name] {
			t.Fatalf("case %q appears twice", tc.Name)
		}
		names[tc.Name] = true
		if (tc.File == "") == (len(tc.Body) == 0) {
			t.Fatalf("case %q: give either file or body", tc.Name)
		}
	}
	files, err := os.ReadDir(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if info, err := f.Info(); err != nil || info.Size() > 64<<10 {
			t.Errorf("%s is %d bytes: a large body belongs in a recipe, not in a committed file", f.Name(), info.Size())
		}
	}
	return c
}

// body builds the case's body.
func (tc corpusCase) body(t *testing.T) []byte {
	t.Helper()
	if tc.File != "" {
		return readCorpusFile(t, tc.File)
	}
	var b bytes.Buffer
	for _, p := range tc.Body {
		p.write(t, &b)
	}
	return b.Bytes()
}

func (p corpusPart) write(t *testing.T, b *bytes.Buffer) {
	t.Helper()
	var one []byte
	switch {
	case p.Hex != "":
		h, err := hex.DecodeString(p.Hex)
		if err != nil {
			t.Fatalf("hex %q: %v", p.Hex, err)
		}
		one = h
	case p.File != "":
		one = readCorpusFile(t, p.File)
	case len(p.Parts) > 0:
		var inner bytes.Buffer
		for _, q := range p.Parts {
			q.write(t, &inner)
		}
		one = inner.Bytes()
	default:
		one = []byte(p.Text)
	}
	n := max(p.Repeat, 1)
	b.Grow(n * len(one))
	for range n {
		b.Write(one)
	}
}

func readCorpusFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// corpusConfig is the config of the one process every case runs against:
// short read timeouts, so that a trickled body is cut off within the test;
// a NATS max payload above the 8 MiB raw bodies of the router cases; the
// manifest's webhooks, and the routes of those that have one to the
// receiver at sinkURL.
func corpusConfig(t *testing.T, c corpus, sinkURL string) string {
	t.Helper()
	type doc struct {
		Webhooks []map[string]any `yaml:"webhooks"`
		Incoming []map[string]any `yaml:"incoming"`
		Outgoing []map[string]any `yaml:"outgoing"`
		Routes   []map[string]any `yaml:"routes"`
	}
	var d doc
	keys := make([]string, 0, len(c.Webhooks))
	for k := range c.Webhooks {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		w := c.Webhooks[k]
		hook := map[string]any{"name": k, "identifier": k, "incoming": k}
		for kk, v := range w.Webhook {
			hook[kk] = v
		}
		in := map[string]any{"name": k}
		for kk, v := range w.Incoming {
			in[kk] = v
		}
		d.Webhooks = append(d.Webhooks, hook)
		d.Incoming = append(d.Incoming, in)
		if w.Route != nil {
			r := map[string]any{"name": k, "incoming": k, "outgoing": []string{w.Outgoing}}
			for kk, v := range w.Route {
				r[kk] = v
			}
			d.Routes = append(d.Routes, r)
		}
	}
	retry := map[string]any{"max_attempts": 5, "initial_interval": "100ms", "max_interval": "1s"}
	d.Outgoing = []map[string]any{
		{"name": "sink", "url": sinkURL, "allow_private_networks": true, "retry": retry},
		{"name": "sink-xml", "url": sinkURL, "format": "xml", "allow_private_networks": true, "retry": retry},
	}
	rest, err := yaml.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return `
server: {listen: "127.0.0.1:0", shutdown_timeout: 10s, read_header_timeout: 2s, read_timeout: ` + corpusReadTimeout.String() + `, memory_limit: ` + corpusMemLimit + `}
admin: {listen: ""}
log: {level: info, format: json}
nats:
  url: ""
  embedded: {listen: "127.0.0.1:0", store_dir: "${TEST_STORE_DIR}", max_payload: 16MiB}
  stream: {duplicates: 1m}
  publish_timeout: 10s
` + string(rest)
}

// corpusReadTimeout is server.read_timeout of the corpus process: long
// enough for an 8 MiB body over loopback under -race on a busy machine,
// short enough that the trickled cases end within seconds.
const corpusReadTimeout = 2 * time.Second

// corpusAnswer is what the sender got.
type corpusAnswer struct {
	status int
	raw    []byte
	body   map[string]any
}

// send posts body to /webhooks/<webhook> as the case says.
func (tc corpusCase) send(t *testing.T, hg *instance, body []byte) corpusAnswer {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(hg.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := fmt.Sprintf("POST /webhooks/%s HTTP/1.1\r\nHost: hookgate\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n",
		tc.Webhook, tc.ContentType, len(body))
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	switch tc.Send {
	case "", "whole":
		// Written while the answer is read: a server that answers early
		// (a refusal) must not block the writer.
		go func() { _, _ = conn.Write(body) }()
	case "truncated":
		if tc.Sent >= len(body) {
			t.Fatalf("sent %d of a %d-byte body is not truncated", tc.Sent, len(body))
		}
		if _, err := conn.Write(body[:tc.Sent]); err != nil {
			t.Fatal(err)
		}
		// The sender goes away without the rest; the read side stays
		// open to get the answer.
		if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
	case "trickled":
		if tc.Trickle.Bytes <= 0 || tc.Trickle.Every <= 0 ||
			time.Duration(len(body)/tc.Trickle.Bytes)*tc.Trickle.Every < 2*corpusReadTimeout {
			t.Fatalf("trickle %+v of %d bytes is not slower than read_timeout %s", tc.Trickle, len(body), corpusReadTimeout)
		}
		go func() {
			for off := 0; off < len(body); off += tc.Trickle.Bytes {
				if _, err := conn.Write(body[off:min(off+tc.Trickle.Bytes, len(body))]); err != nil {
					return
				}
				time.Sleep(tc.Trickle.Every)
			}
		}()
	default:
		t.Fatalf("send %q: use whole, truncated or trickled", tc.Send)
	}
	// Generous for a -race build on a shared machine; a hang fails here.
	_ = conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v\n%s", err, tailLog(hg))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	a := corpusAnswer{status: resp.StatusCode, raw: raw}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		t.Errorf("answer %d is not JSON: %q", resp.StatusCode, raw)
	}
	if id := resp.Header.Get("X-Request-Id"); id == "" || a.body["request_id"] != id {
		t.Errorf("X-Request-Id %q, body request_id %v: want one id in both", id, a.body["request_id"])
	}
	return a
}

// corpusStore reads the task and dead-letter streams of the process.
type corpusStore struct {
	t  *testing.T
	nc *nats.Conn
	js jetstream.JetStream
}

func openCorpusStore(t *testing.T, natsURL string) *corpusStore {
	t.Helper()
	nc, js := connectJS(t, natsURL)
	t.Cleanup(nc.Close)
	return &corpusStore{t: t, nc: nc, js: js}
}

// lastSeq is the tasks stream's last sequence number.
func (s *corpusStore) lastSeq() uint64 {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := s.js.Stream(ctx, "HOOKGATE_TASKS")
	if err != nil {
		s.t.Fatalf("stream HOOKGATE_TASKS: %v", err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	return info.State.LastSeq
}

// headers returns the headers of every message on subject of stream after
// sequence from, in order; with body, the messages themselves.
func (s *corpusStore) read(stream, subject string, from uint64, body bool) []task {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := s.js.Stream(ctx, stream)
	if err != nil {
		s.t.Fatalf("stream %s: %v", stream, err)
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}, HeadersOnly: !body}
	if from > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from+1
	}
	cons, err := st.OrderedConsumer(ctx, cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	want := int(info.NumPending)
	var out []task
	for len(out) < want {
		if ctx.Err() != nil {
			s.t.Fatalf("read %d of %d messages on %s within 30s", len(out), want, subject)
		}
		batch, err := cons.Fetch(min(want-len(out), 1000), jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			s.t.Fatal(err)
		}
		for m := range batch.Messages() {
			out = append(out, task{Subject: m.Subject(), Header: m.Headers(), Data: m.Data()})
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			s.t.Fatal(err)
		}
	}
	return out
}

// byRequest groups tasks by their ce-requestid.
func byRequest(tasks []task) map[string][]task {
	out := map[string][]task{}
	for _, tk := range tasks {
		id := tk.Header.Get("ce-requestid")
		out[id] = append(out[id], tk)
	}
	return out
}

// checkStored asserts that the tasks of one request are want whole tasks
// of subject, item indexes 0…want-1 in order, and parsed items valid JSON
// in valid UTF-8 whatever the body held: nothing by half.
func checkStored(t *testing.T, got []task, subject string, want int, parsed bool) {
	t.Helper()
	if len(got) != want {
		t.Errorf("%d tasks stored for the request, want %d", len(got), want)
		return
	}
	for i, tk := range got {
		if tk.Subject != subject || tk.Header.Get("ce-itemindex") != strconv.Itoa(i) {
			t.Errorf("task %d: subject %s, ce-itemindex %q; want %s and %d", i, tk.Subject, tk.Header.Get("ce-itemindex"), subject, i)
		}
		if parsed && (!json.Valid(tk.Data) || !utf8.Valid(tk.Data)) {
			t.Errorf("task %d is not valid JSON in UTF-8: %.200q", i, tk.Data)
		}
	}
}

// deadLetterOf waits up to within for the dead letter of request id on
// subject and returns it, whole; it fails at once if the process exits.
func (s *corpusStore) deadLetterOf(hg *instance, subject, id string, within time.Duration) task {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for {
		select {
		case <-hg.exited:
			s.t.Fatalf("hookgate exited (%v) before a dead letter on %s:\n%s", hg.exitErr, subject, tailLog(hg))
		default:
		}
		if dls := byRequest(s.read("HOOKGATE_DLQ", subject, 0, false))[id]; len(dls) > 0 {
			if len(dls) > 1 {
				s.t.Errorf("%d dead letters of the request on %s, want 1", len(dls), subject)
			}
			for _, dl := range s.read("HOOKGATE_DLQ", subject, 0, true) {
				if dl.Header.Get("ce-requestid") == id {
					return dl
				}
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no dead letter of request %s on %s within %s:\n%s", id, subject, within, tailLog(hg))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// alive asserts that hg has not exited and answers /healthz with 200.
func alive(t *testing.T, hg *instance) {
	t.Helper()
	select {
	case <-hg.exited:
		t.Fatalf("hookgate exited: %v\n%s", hg.exitErr, tailLog(hg))
	default:
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(hg.URL + "/healthz")
	if err != nil {
		t.Fatalf("GET /healthz: %v\n%s", err, tailLog(hg))
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /healthz: %d, want 200", resp.StatusCode)
	}
}

// peakRSS is the process's peak resident set (VmHWM) in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc status for the process: %v", err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}
