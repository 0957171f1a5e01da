package configs

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestStrictDecoding(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		env  map[string]string
		want []string
	}{
		{"an empty document is valid", "", nil, nil},
		{"null sections are valid", "server:\nwebhooks:\n", nil, nil},
		{"an unknown top-level key lists the sections", "serverr: {}\n",
			nil, []string{"t.yaml:1: serverr: unknown key; allowed: server, admin, log, nats, tracing, auth_profiles, webhooks, incoming, outgoing, routes"}},
		{"an unknown nested key names the full path", "server:\n  listen: \":8080\"\n  max_bdy: 1MiB\n",
			nil, []string{"t.yaml:3: server.max_bdy: unknown key; allowed: listen, max_body, read_header_timeout, read_timeout, shutdown_timeout, spool_dir"}},
		{"a top level that is not a map is an error", "- a\n- b\n",
			nil, []string{"t.yaml:1: the top level must be a map of sections"}},
		{"a list where a map belongs is an error", "server: [1]\n",
			nil, []string{"t.yaml:1: server: must be a map; got a list"}},
		{"a map where a list belongs is an error", "webhooks: {name: x}\n",
			nil, []string{"t.yaml:1: webhooks: must be a list; got a map"}},
		{"a list where a string belongs is an error", "admin: {token: [a]}\n",
			nil, []string{"t.yaml:1: admin.token: must be a string; got a list"}},
		{"a word where a boolean belongs is an error", "incoming: [{name: a, xml: {cast: yes}}]\n",
			nil, []string{`t.yaml:1: incoming[0].xml.cast: invalid boolean "yes"; use true or false`}},
		{"a bad duration is an error", "server: {read_timeout: 10}\n",
			nil, []string{`t.yaml:1: server.read_timeout: invalid duration "10"; use a Go duration`}},
		{"a negative duration is an error", "server: {read_timeout: -1s}\n",
			nil, []string{`server.read_timeout: invalid duration "-1s"`}},
		{"a repeated key is an error", "server:\n  listen: \":1\"\n  listen: \":2\"\n",
			nil, []string{"t.yaml:3: server.listen: duplicate key; first at line 2"}},
		{"a pre-processor with two keys is an error", "incoming: [{name: a}]\nwebhooks:\n  - name: w\n    incoming: a\n    pre_processors:\n      - {header_secret: {header: X, secret: s}, basic_auth: {username: u, password: p}}\n",
			nil, []string{"t.yaml:6: webhooks[0].pre_processors[0]: has 2 keys (header_secret, basic_auth); each entry takes exactly one of header_secret, basic_auth, ip_allowlist, hmac"}},
		{"an empty pre-processor is an error", "incoming: [{name: a}]\nwebhooks: [{name: w, incoming: a, pre_processors: [{}]}]\n",
			nil, []string{"t.yaml:2: webhooks[0].pre_processors[0]: empty entry; use one of header_secret, basic_auth, ip_allowlist, hmac"}},
		{"an unknown pre-processor lists the known ones", "incoming: [{name: a}]\nwebhooks: [{name: w, incoming: a, pre_processors: [{hmca: {}}]}]\n",
			nil, []string{"t.yaml:2: webhooks[0].pre_processors[0].hmca: unknown key; allowed: header_secret, basic_auth, ip_allowlist, hmac"}},
		{"a pre-processor that is a string is an error", "incoming: [{name: a}]\nwebhooks: [{name: w, incoming: a, pre_processors: [hmac]}]\n",
			nil, []string{`webhooks[0].pre_processors[0]: must be a map; got "hmac"`}},
		{"a transform step with two keys is an error", routeDoc("transform: [{set: {a: 1}, remove: [b]}]"),
			nil, []string{"routes[0].transform[0]: has 2 keys (set, remove); each entry takes exactly one of map, set, rename, remove"}},
		{"an unknown post-processor is an error", "incoming: [{name: a}]\nwebhooks: [{name: w, incoming: a, post_processors: [{reply: {}}]}]\n",
			nil, []string{"webhooks[0].post_processors[0].reply: unknown key; allowed: respond"}},
		{"an unset variable is named", "admin: {token: \"${ADMIN_TOKEN}\"}\n",
			nil, []string{"t.yaml:1: admin.token: environment variable ADMIN_TOKEN is not set; set it or write ${ADMIN_TOKEN:-default}"}},
		{"variables expand before conversion", "incoming: [{name: a, max_items: \"${N:-5}\"}]\nserver: {max_body: \"${MB}\"}\n",
			map[string]string{"MB": "1MiB"}, nil},
		{"an expanded value is still checked", "server: {max_body: \"${MB}\"}\n",
			map[string]string{"MB": "lots"}, []string{`t.yaml:1: server.max_body: invalid size "lots"`}},
		{"invalid YAML reports its line", "server:\n  listen: \":8080\"\n bad: [\n",
			nil, []string{"t.yaml:2: invalid YAML: did not find expected key"}},
		{"two documents are an error", "server: {}\n---\nlog: {}\n",
			nil, []string{"t.yaml:2: more than one YAML document; put one document in each file"}},
		{"x- keys at the top hold anchors", "x-base: &base {parser: xml, max_items: 7}\nincoming: [{<<: *base, name: a}]\n", nil, nil},
		{"x- keys are only free at the top", "server: {x-note: hi}\n",
			nil, []string{"server.x-note: unknown key"}},
		{"a merge key of a scalar is an error", "incoming: [{<<: 5, name: a}]\n",
			nil, []string{"incoming[0].<<: a merge key takes a map or a list of maps"}},
		{"a key that is a list is an error", "server: {[a]: 1}\n",
			nil, []string{"server: keys must be strings; got a list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := parseDoc(t, tt.doc, tt.env)
			checkProblems(t, ps, tt.want)
		})
	}
}

// routeDoc is a valid route with one outgoing, plus extra keys on the route.
func routeDoc(extra string) string {
	return `incoming: [{name: in}]
outgoing: [{name: out, url: "https://erp.example.com/orders"}]
routes:
  - {name: r, incoming: in, outgoing: [out], ` + extra + `}
`
}

func TestMergeKeysAndAliases(t *testing.T) {
	doc := `x-base: &base
  parser: xml
  max_items: 7
x-list: &hooks [X-A, X-B]
incoming:
  - <<: *base
    name: a
  - <<: *base
    name: b
    max_items: 9
webhooks:
  - {name: w, incoming: a, forward_headers: *hooks}
`
	cfg, ps := parseDoc(t, doc, nil)
	checkProblems(t, ps, nil)
	a, _ := cfg.IncomingByName("a")
	b, _ := cfg.IncomingByName("b")
	if a.Parser != "xml" || a.MaxItems != 7 {
		t.Errorf("merged incoming a = %s/%d; want xml/7", a.Parser, a.MaxItems)
	}
	if b.Parser != "xml" || b.MaxItems != 9 {
		t.Errorf("incoming b = %s/%d; want xml/9 (explicit key wins over merge)", b.Parser, b.MaxItems)
	}
	if got := cfg.Webhooks[0].ForwardHeaders; !reflect.DeepEqual(got, []string{"X-A", "X-B"}) {
		t.Errorf("aliased forward_headers = %q", got)
	}
}

func TestAliasBombIsRefused(t *testing.T) {
	var b strings.Builder
	b.WriteString("x-0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("x-" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	b.WriteString(routeDoc("transform: [{set: {k: *a8}}]"))
	start := time.Now()
	_, ps := parseDoc(t, b.String(), nil)
	checkProblems(t, ps, []string{"document too large or too many aliases"})
	t.Logf("alias bomb refused in %v", time.Since(start))
}

func TestDefaults(t *testing.T) {
	doc := `incoming: [{name: erp-stock}]
webhooks: [{name: " Shop: Orders (EU) ", incoming: erp-stock}]
outgoing: [{name: out, url: "https://erp.example.com/"}]
`
	cfg, ps := parseDoc(t, doc, nil)
	checkProblems(t, ps, nil)
	want := Default()
	if !reflect.DeepEqual(cfg.Server, want.Server) || !reflect.DeepEqual(cfg.NATS, want.NATS) ||
		cfg.Admin != want.Admin || cfg.Log != want.Log {
		t.Errorf("sections differ from Default():\n got %+v\nwant %+v", cfg, want)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"server listen", cfg.Server.Listen, ":8080"},
		{"server max_body", cfg.Server.MaxBody, 10 * MiB},
		{"server read_header_timeout", cfg.Server.ReadHeaderTimeout, 10 * time.Second},
		{"server read_timeout", cfg.Server.ReadTimeout, 60 * time.Second},
		{"server shutdown_timeout", cfg.Server.ShutdownTimeout, 30 * time.Second},
		{"admin listen", cfg.Admin.Listen, "127.0.0.1:8081"},
		{"log level", cfg.Log.Level, "info"},
		{"log format", cfg.Log.Format, "json"},
		{"nats url", cfg.NATS.URL, ""},
		{"embedded listen", cfg.NATS.Embedded.Listen, "127.0.0.1:4222"},
		{"embedded store_dir", cfg.NATS.Embedded.StoreDir, "data/nats"},
		{"embedded max_payload", cfg.NATS.Embedded.MaxPayload, 8 * MiB},
		{"stream name", cfg.NATS.Stream.Name, "HOOKGATE_TASKS"},
		{"stream max_age", cfg.NATS.Stream.MaxAge, 168 * time.Hour},
		{"stream replicas", cfg.NATS.Stream.Replicas, 1},
		{"stream duplicates", cfg.NATS.Stream.Duplicates, 2 * time.Minute},
		{"publish_timeout", cfg.NATS.PublishTimeout, 5 * time.Second},
		{"webhook identifier is the slug", cfg.Webhooks[0].Identifier, "shop-orders-eu"},
		{"webhook methods", cfg.Webhooks[0].Methods, []string{"POST"}},
		{"webhook max_body is the server's", cfg.Webhooks[0].MaxBody, 10 * MiB},
		{"incoming parser", cfg.Incoming[0].Parser, "auto"},
		{"incoming read_method", cfg.Incoming[0].ReadMethod, "full"},
		{"incoming on_empty", cfg.Incoming[0].OnEmpty, "reject"},
		{"incoming max_items", cfg.Incoming[0].MaxItems, 100000},
		{"incoming subject", cfg.Incoming[0].Subject, "tasks.erp-stock"},
		{"incoming type", cfg.Incoming[0].Type, "hookgate.erp-stock"},
		{"csv delimiter", cfg.Incoming[0].CSV.Delimiter, ","},
		{"outgoing method", cfg.Outgoing[0].Method, "POST"},
		{"outgoing format", cfg.Outgoing[0].Format, "json"},
		{"outgoing root_element", cfg.Outgoing[0].RootElement, "item"},
		{"outgoing timeout", cfg.Outgoing[0].Timeout, 10 * time.Second},
		{"outgoing concurrency", cfg.Outgoing[0].Concurrency, 8},
		{"retry", cfg.Outgoing[0].Retry, Retry{12, time.Second, 15 * time.Minute}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v; want %v", c.name, c.got, c.want)
		}
	}
}

func TestDerivedDefaults(t *testing.T) {
	doc := `server: {max_body: 1MiB}
incoming: [{name: a}]
webhooks:
  - name: gh
    incoming: a
    pre_processors:
      - hmac: {preset: stripe, secret: whsec_x}
      - hmac: {header: X-Sig, algorithm: sha256, secret: s, timestamp_header: X-Ts, signed_payload: "{timestamp}.{body}"}
      - hmac: {header: X-Sig, algorithm: sha1, secret: s}
    post_processors: [{respond: {body: ok}}]
  - {name: big, incoming: a, max_body: 2MiB}
`
	cfg, ps := parseDoc(t, doc, nil)
	checkProblems(t, ps, nil)
	w := cfg.Webhooks[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"webhook max_body follows server", w.MaxBody, MiB},
		{"explicit webhook max_body wins", cfg.Webhooks[1].MaxBody, 2 * MiB},
		{"stripe tolerance", w.PreProcessors[0].HMAC.Tolerance, 5 * time.Minute},
		{"generic tolerance with timestamp", w.PreProcessors[1].HMAC.Tolerance, 5 * time.Minute},
		{"generic encoding", w.PreProcessors[2].HMAC.Encoding, "hex"},
		{"generic signed_payload", w.PreProcessors[2].HMAC.SignedPayload, "{body}"},
		{"generic without timestamp has no tolerance", w.PreProcessors[2].HMAC.Tolerance, time.Duration(0)},
		{"respond status", w.PostProcessors[0].Respond.Status, 200},
		{"respond content type", w.PostProcessors[0].Respond.ContentType, "application/json"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v; want %v", c.name, c.got, c.want)
		}
	}
}

func TestExplicitEmptyKeepsApartFromAbsent(t *testing.T) {
	cfg, ps := parseDoc(t, "admin: {listen: \"\"}\nnats: {embedded: {listen: \"\"}}\n", nil)
	checkProblems(t, ps, nil)
	if cfg.Admin.Listen != "" || cfg.NATS.Embedded.Listen != "" {
		t.Fatalf("explicit empty listen overwritten by default: admin %q, embedded %q", cfg.Admin.Listen, cfg.NATS.Embedded.Listen)
	}
}

func TestRouteDecoding(t *testing.T) {
	doc := routeDoc(`filter: [{path: status, equals: 5}, {path: n, gt: 2.5}, {path: x, exists: false}, {path: y, equals: }],
    transform: [{map: {orderId: "-id", lines: Lines.Line}}, {set: {source: "${SRC:-erp}", n: 1, ok: true, nested: {b: [1, x]}, nothing: null}}, {rename: {orderId: id}}, {remove: [internalNotes]}]`)
	cfg, ps := parseDoc(t, doc, nil)
	checkProblems(t, ps, nil)
	r := cfg.Routes[0]
	if *r.Filter[0].Equals != "5" || *r.Filter[1].GT != 2.5 || *r.Filter[2].Exists || *r.Filter[3].Equals != "" {
		t.Errorf("filter decoded wrong: %+v", r.Filter)
	}
	wantMap := []KeyValue{{"orderId", "-id"}, {"lines", "Lines.Line"}}
	if !reflect.DeepEqual(r.Transform[0].Map, wantMap) {
		t.Errorf("map = %v; want %v (order kept)", r.Transform[0].Map, wantMap)
	}
	var set []string
	for _, kv := range r.Transform[1].Set {
		set = append(set, kv.Key+"="+string(kv.JSON))
	}
	wantSet := []string{`source="erp"`, `n=1`, `ok=true`, `nested={"b":[1,"x"]}`, `nothing=null`}
	if !reflect.DeepEqual(set, wantSet) {
		t.Errorf("set = %q; want %q", set, wantSet)
	}
	if !reflect.DeepEqual(r.Transform[2].Rename, []KeyValue{{"orderId", "id"}}) || !reflect.DeepEqual(r.Transform[3].Remove, []string{"internalNotes"}) {
		t.Errorf("rename/remove decoded wrong: %+v", r.Transform[2:])
	}
}
