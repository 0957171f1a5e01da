package configs

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestExamplesLoadWithoutProblems(t *testing.T) {
	cfg, err := Load("examples")
	if err != nil {
		t.Fatalf("configs/examples/ does not load:\n%v", err)
	}
	if got, want := cfg.Summary(), "ok: 2 webhooks, 3 incoming, 3 outgoing, 3 routes"; got != want {
		t.Errorf("Summary() = %q; want %q", got, want)
	}
	erp, ok := cfg.WebhookByIdentifier("erp-orders")
	if !ok {
		t.Fatal(`no webhook "erp-orders" (the slug of "ERP Orders")`)
	}
	hs := erp.PreProcessors[0].HeaderSecret
	if hs == nil || hs.Header != "X-Alumio-Auth" || hs.Secret == "" {
		t.Errorf("erp-orders header_secret = %+v; want header X-Alumio-Auth and a secret", hs)
	}
	if erp.Incoming != "erp-orders" || !reflect.DeepEqual(erp.AdditionalIncoming, []string{"erp-orders-audit"}) {
		t.Errorf("erp-orders incoming = %q + %q", erp.Incoming, erp.AdditionalIncoming)
	}
	in, ok := cfg.IncomingByName("erp-orders")
	if !ok || in.Parser != "xml" || in.PatternToItems != "Orders.Order" {
		t.Errorf("incoming erp-orders = %+v; want parser xml, pattern Orders.Order", in)
	}
	gh, ok := cfg.WebhookByIdentifier("github")
	if !ok || gh.PreProcessors[0].HMAC == nil || gh.PreProcessors[0].HMAC.Preset != "github" {
		t.Errorf("github webhook = %+v; want an hmac github preset", gh)
	}
	if cfg.NATS.URL != "" || cfg.NATS.Embedded.StoreDir != "data/nats" || cfg.Server.Listen != ":8080" || cfg.Admin.Listen == "" {
		t.Errorf("hookgate.yaml sections: nats %+v server %+v admin %+v", cfg.NATS, cfg.Server, cfg.Admin)
	}
	if erp.Pos.File != filepath.Join("examples", "erp.yaml") || erp.Pos.Line == 0 {
		t.Errorf("erp-orders Pos = %+v; want examples/erp.yaml and a line", erp.Pos)
	}
}

func TestExampleOrdersXML(t *testing.T) {
	data, err := os.ReadFile("examples/orders.xml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	if n := strings.Count(s, "<Order "); n != 5 {
		t.Errorf("orders.xml has %d <Order> elements; want 5", n)
	}
	for _, want := range []string{"Jürgen Müller", `status="released"`, "<Lines>", "<Line no="} {
		if !strings.Contains(s, want) {
			t.Errorf("orders.xml lacks %q", want)
		}
	}
}

func problemsOf(t *testing.T, err error) Problems {
	t.Helper()
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want Problems; got %T %v", err, err)
	}
	return ps
}

func TestLoadDirectory(t *testing.T) {
	tests := []struct {
		name string
		path string
		want []string
	}{
		{"a name defined in two files names both",
			filepath.Join("testdata", "dup"), []string{
				`testdata/dup/b.yaml:4: incoming[1].name: incoming "erp-stock" is defined twice; first at testdata/dup/a.yaml:2`,
				`testdata/dup/b.yaml:7: webhooks[0].identifier: identifier "erp-stock" is used twice; first by webhook "ERP Stock" at testdata/dup/a.yaml:5`,
			}},
		{"a section in two files names both",
			filepath.Join("testdata", "twosections"), []string{
				"testdata/twosections/b.yml:2: server: also set in testdata/twosections/a.yaml:1; set server in one file only",
			}},
		{"a directory without YAML is refused",
			filepath.Join("testdata", "empty"), []string{"testdata/empty: no *.yaml or *.yml files in this directory"}},
		{"a missing path is refused",
			filepath.Join("testdata", "nope.yaml"), []string{"testdata/nope.yaml: cannot read config: no such file or directory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(tt.path)
			if cfg != nil {
				t.Fatal("want no config")
			}
			ps := problemsOf(t, err)
			if len(ps) != len(tt.want) {
				t.Errorf("got %d problems; want %d:\n%v", len(ps), len(tt.want), err)
			}
			checkProblems(t, ps, tt.want)
		})
	}
}

func TestLoadDirectoryMergesLists(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"10-base.yaml":  "server: {listen: \":9000\"}\nincoming: [{name: a}]\n",
		"20-more.yml":   "incoming: [{name: b}]\nwebhooks: [{name: W, incoming: b}]\n",
		"notes.txt":     "ignored",
		".#20-more.yml": "not: [valid",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.yaml"), 0o700); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != ":9000" || len(cfg.Incoming) != 2 || cfg.Incoming[0].Name != "a" || cfg.Incoming[1].Name != "b" {
		t.Fatalf("merged config: listen %q, incoming %+v", cfg.Server.Listen, cfg.Incoming)
	}
	if cfg.Webhooks[0].Pos.File != filepath.Join(dir, "20-more.yml") {
		t.Errorf("webhook Pos.File = %q", cfg.Webhooks[0].Pos.File)
	}
}

func TestProblemsAreSortedAndComplete(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("b.yaml", "log: {level: loud}\nincoming: [{name: X}]\n")
	write("a.yaml", "incoming:\n  - {name: a, parser: nope}\nserver: {listen: x}\n")
	_, err := Load(dir)
	ps := problemsOf(t, err)
	var got []string
	for _, p := range ps {
		got = append(got, filepath.Base(p.File)+":"+p.Path)
	}
	want := []string{"a.yaml:incoming[0].parser", "a.yaml:server.listen", "b.yaml:log.level", "b.yaml:incoming[0].name"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("problems in order %q; want %q", got, want)
	}
	if lines := strings.Split(err.Error(), "\n"); len(lines) != 4 {
		t.Fatalf("Error() has %d lines; want one per problem", len(lines))
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		name string
		p    Problem
		want string
	}{
		{"all parts", Problem{"c.yaml", 14, "webhooks[0].x", "bad"}, "c.yaml:14: webhooks[0].x: bad"},
		{"no line", Problem{"c.yaml", 0, "", "no *.yaml"}, "c.yaml: no *.yaml"},
		{"no file", Problem{"", 3, "a", "bad"}, "a: bad"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.String(); got != tt.want {
				t.Fatalf("String() = %q; want %q", got, tt.want)
			}
		})
	}
}

func TestParseUsesProcessEnvironment(t *testing.T) {
	t.Setenv("HOOKGATE_TEST_LISTEN", ":7070")
	cfg, err := Parse("x.yaml", []byte("server: {listen: \"${HOOKGATE_TEST_LISTEN}\"}\n"))
	if err != nil || cfg.Server.Listen != ":7070" {
		t.Fatalf("Parse = %+v, %v; want listen :7070", cfg, err)
	}
}
