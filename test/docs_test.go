package test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.yaml.in/yaml/v3"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/router"
	"github.com/hookgate/hookgate/test/natstest"
)

// The manual's configurations are run, not only read. The rule, stated as
// the "writers' rule" at the top of docs/README.md:
//
//   - every ```yaml (or ```yml) block in README.md and docs/**/*.md is a
//     whole hookgate configuration: it must pass `hookgate validate` and
//     build as `serve` builds it (gateway and router), unless its first
//     line is a marker;
//   - `# fragment …` marks part of a configuration: it must be valid YAML;
//   - `# other: …` marks YAML that is not a hookgate configuration (a
//     Compose file): it must be valid YAML;
//   - `# refused …` marks a configuration `validate` must refuse; when the
//     next block is ```text, each of its lines that starts with
//     `config.yaml:` must be printed by `hookgate validate -c config.yaml`;
//   - ${NAME} without a default stands for a secret: the test sets NAME to
//     a placeholder that every secret key accepts (a Standard Webhooks key);
//     ${NAME:-default} is tested with its default.

// repoRoot is the repository, from the test package's directory.
const repoRoot = ".."

// docSecret is what ${NAME} without a default becomes: a valid
// standard_webhooks secret, which every other secret key accepts as well.
const docSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// manualPage is one Markdown file of the manual.
type manualPage struct {
	path string // as opened from here
	name string // relative to the repository root, for messages
}

// manualPages lists README.md and docs/**/*.md under root.
func manualPages(t *testing.T, root string) []manualPage {
	t.Helper()
	pages := []manualPage{{filepath.Join(root, "README.md"), "README.md"}}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".md") {
			rel, _ := filepath.Rel(root, path)
			pages = append(pages, manualPage{path, filepath.ToSlash(rel)})
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

// fence is one fenced code block of a Markdown file.
type fence struct {
	file string // relative to the repository root, for messages
	line int    // the line of the opening ```
	lang string
	text string
}

func (f fence) String() string { return fmt.Sprintf("%s:%d", f.file, f.line) }

// marker is the first line of a YAML block, trimmed: how the block is
// marked, if it is.
func (f fence) marker() string {
	first, _, _ := strings.Cut(f.text, "\n")
	return strings.TrimSpace(first)
}

// readFences returns the fenced blocks of a Markdown file in order. A fence
// may be indented (inside a list); its content loses that indentation.
func readFences(p manualPage) ([]fence, error) {
	data, err := os.ReadFile(p.path)
	if err != nil {
		return nil, err
	}
	var out []fence
	var cur *fence
	var indent string
	var body strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		if cur == nil {
			if strings.HasPrefix(trimmed, "```") {
				cur = &fence{file: p.name, line: n, lang: strings.TrimSpace(strings.TrimPrefix(trimmed, "```"))}
				indent = line[:len(line)-len(trimmed)]
				body.Reset()
			}
			continue
		}
		if strings.TrimSpace(line) == "```" {
			cur.text = body.String()
			out = append(out, *cur)
			cur = nil
			continue
		}
		body.WriteString(strings.TrimPrefix(line, indent))
		body.WriteByte('\n')
	}
	if cur != nil {
		return nil, fmt.Errorf("%s: the block opened here is never closed", cur)
	}
	return out, nil
}

var envRef = regexp.MustCompile(`\$?\$\{([A-Za-z_][A-Za-z0-9_]*)(:-)?`)

// docEnv is the environment a block is tested with: each ${NAME} without a
// default is set to docSecret, each one used only with a default is set
// empty so that its default applies whatever the developer's shell holds.
func docEnv(text string) map[string]string {
	env := map[string]string{}
	for _, m := range envRef.FindAllStringSubmatch(text, -1) {
		if strings.HasPrefix(m[0], "$$") {
			continue // $${ writes a literal ${
		}
		if m[2] == "" {
			env[m[1]] = docSecret
		} else if _, ok := env[m[1]]; !ok {
			env[m[1]] = ""
		}
	}
	return env
}

// validateDoc runs `hookgate validate -c DIR/config.yaml` on text with env
// and nothing else in the environment; it returns the output, stdout then
// stderr, and the exit error.
func validateDoc(t *testing.T, text string, env map[string]string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "validate", "-c", "config.yaml")
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// blockKind says what the rule makes of a YAML block.
type blockKind int

const (
	notYAML blockKind = iota
	wholeConfig
	fragmentConfig
	otherYAML
	refusedConfig
)

func kindOf(b fence) blockKind {
	if b.lang != "yaml" && b.lang != "yml" {
		return notYAML
	}
	switch m := b.marker(); {
	case strings.HasPrefix(m, "# fragment"):
		return fragmentConfig
	case strings.HasPrefix(m, "# other:"):
		return otherYAML
	case strings.HasPrefix(m, "# refused"):
		return refusedConfig
	}
	return wholeConfig
}

// checkBlock holds block i of blocks to the rule; nil when it complies.
func checkBlock(t *testing.T, blocks []fence, i int, js jetstream.JetStream) error {
	b := blocks[i]
	switch kindOf(b) {
	case fragmentConfig, otherYAML:
		var v any
		if err := yaml.Unmarshal([]byte(b.text), &v); err != nil {
			return fmt.Errorf("%s: marked %q but not YAML: %v", b, b.marker(), err)
		}
	case refusedConfig:
		var next *fence
		if i+1 < len(blocks) && blocks[i+1].lang == "text" {
			next = &blocks[i+1]
		}
		return checkRefused(t, b, next)
	case wholeConfig:
		return checkWhole(t, b, js)
	}
	return nil
}

// checkWhole validates b with the binary, then loads it and builds its
// gateway runtime and router as serve does, which catches what only a
// start would refuse.
func checkWhole(t *testing.T, b fence, js jetstream.JetStream) error {
	env := docEnv(b.text)
	out, err := validateDoc(t, b.text, env)
	if err != nil || !strings.HasPrefix(out, "ok: ") {
		return fmt.Errorf("%s: hookgate validate refuses this configuration (%v):\n%s\nMark a part of a configuration with a first line `# fragment`, a refused one with `# refused`, other YAML with `# other:`", b, err, out)
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	cfg, err := configs.Parse(b.String(), []byte(b.text))
	if err != nil {
		return fmt.Errorf("%s: configs.Parse: %v", b, err)
	}
	if _, err := gateway.Build(cfg); err != nil {
		return fmt.Errorf("%s: serve would refuse the webhooks: %v", b, err)
	}
	r, err := router.New(cfg, js, nil, "docs")
	if err != nil {
		return fmt.Errorf("%s: serve would refuse the routes: %v", b, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return r.Stop(ctx)
}

// checkRefused validates b and expects a refusal; next, when given, holds
// the lines the page says validate prints.
func checkRefused(t *testing.T, b fence, next *fence) error {
	out, err := validateDoc(t, b.text, docEnv(b.text))
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		return fmt.Errorf("%s: marked # refused, but hookgate validate exits with %v:\n%s", b, err, out)
	}
	if next == nil {
		return nil
	}
	printed := strings.Split(strings.TrimSpace(out), "\n")
	var problems []error
	shown := 0
	for _, line := range strings.Split(next.text, "\n") {
		if !strings.HasPrefix(line, "config.yaml:") {
			continue
		}
		shown++
		if !slices.Contains(printed, line) {
			problems = append(problems, fmt.Errorf("%s: the page shows\n\t%s\nbut hookgate validate prints:\n%s", next, line, out))
		}
	}
	if shown == 0 {
		problems = append(problems, fmt.Errorf("%s: the text block after a refused configuration shows no config.yaml: line", next))
	}
	return errors.Join(problems...)
}

// TestDocsConfigsValidate holds the manual to its rule (see the top of this
// file): whole configurations validate and build, refused ones are refused
// with the problems the page shows, fragments and other YAML are YAML.
func TestDocsConfigsValidate(t *testing.T) {
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	count := map[blockKind]int{}
	for _, p := range manualPages(t, repoRoot) {
		blocks, err := readFences(p)
		if err != nil {
			t.Error(err)
			continue
		}
		for i, b := range blocks {
			kind := kindOf(b)
			if kind == notYAML {
				continue
			}
			count[kind]++
			t.Run(strings.ReplaceAll(b.String(), "/", "_"), func(t *testing.T) {
				if err := checkBlock(t, blocks, i, js); err != nil {
					t.Error(err)
				}
			})
		}
	}
	if count[wholeConfig] < 20 || count[refusedConfig] < 1 {
		t.Errorf("%d whole and %d refused configurations found; the manual has more, the scan is broken", count[wholeConfig], count[refusedConfig])
	}
}

// TestDocsCheckCatchesBrokenExamples shows that the check above fails on
// what it is there to catch: a typo in a whole configuration, a refusal
// that is not one, a refusal the page misquotes, a fragment that is not
// YAML. Each would pass a check that only parses YAML or only greps.
func TestDocsCheckCatchesBrokenExamples(t *testing.T) {
	srv := natstest.Start(t)
	_, js := natstest.Connect(t, srv)
	const good = "webhooks:\n  - name: Shop\n    incoming: shop\nincoming:\n  - name: shop\n    parser: json\n"
	cases := []struct {
		name   string
		blocks []fence
		want   string // in the error; "" for a block that complies
	}{
		{"a whole configuration", []fence{{lang: "yaml", text: good}}, ""},
		{"a typo in a key", []fence{{lang: "yaml", text: strings.Replace(good, "parser: json", "parsr: json", 1)}},
			"incoming[0].parsr: unknown key"},
		{"an undefined incoming", []fence{{lang: "yml", text: strings.Replace(good, "incoming: shop", "incoming: shopp", 1)}},
			`webhooks[0].incoming: "shopp" is not defined`},
		{"an undefined auth profile", []fence{{lang: "yaml", text: good + "routes:\n  - name: r\n    incoming: shop\n    outgoing: [o]\noutgoing:\n  - name: o\n    url: https://o.example.com/\n    auth: nope\n"}},
			"refuses"},
		{"a refusal that validates", []fence{{lang: "yaml", text: "# refused: it is not\n" + good}},
			"marked # refused, but hookgate validate exits with <nil>"},
		{"a refusal the page misquotes", []fence{
			{lang: "yaml", text: "# refused\n" + strings.Replace(good, "parser: json", "parser: jsn", 1)},
			{lang: "text", text: "config.yaml:6: incoming[0].parser: something else\n"}},
			"the page shows"},
		{"a refusal the page quotes", []fence{
			{lang: "yaml", text: "# refused\n" + strings.Replace(good, "incoming: shop", "incoming: shopp", 1)},
			{lang: "text", text: "$ hookgate validate -c config.yaml\nconfig.yaml:4: webhooks[0].incoming: \"shopp\" is not defined; defined: shop\n"}},
			""},
		{"a fragment that is not YAML", []fence{{lang: "yaml", text: "# fragment\nserver: {listen: \n"}}, "not YAML"},
		{"other YAML", []fence{{lang: "yaml", text: "# other: a Compose file\nservices: {nats: {image: nats}}\n"}}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for i := range c.blocks {
				c.blocks[i].file, c.blocks[i].line = "docs/broken.md", 10*i+1
			}
			err := checkBlock(t, c.blocks, 0, js)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("a compliant block fails the check: %v", err)
			case c.want != "" && err == nil:
				t.Errorf("the check passes a broken block; want an error with %q", c.want)
			case c.want != "" && !strings.Contains(err.Error(), c.want):
				t.Errorf("error %q, want it to contain %q", err, c.want)
			}
		})
	}
}

// packageMain marks a Go block that is a whole program.
var packageMain = regexp.MustCompile(`(?m)^package main$`)

// TestDocsGoExamplesBuild builds every ```go block of the manual that is a
// whole program (it declares package main) against the module's own
// dependency versions, so that an example cannot drift from the nats.go or
// CloudEvents API it shows. It runs offline: the modules are those `go mod
// download` fetched for the repository.
func TestDocsGoExamplesBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs; skipped with -short")
	}
	mod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(repoRoot, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	// The same requirements under another module path: the examples import
	// only public packages, as a user's program would.
	_, rest, _ := strings.Cut(string(mod), "\n")
	mod = []byte("module docexamples\n" + rest)
	built := 0
	for _, p := range manualPages(t, repoRoot) {
		blocks, err := readFences(p)
		if err != nil {
			t.Error(err)
			continue
		}
		for _, b := range blocks {
			if b.lang != "go" || !packageMain.MatchString(b.text) {
				continue
			}
			built++
			dir := t.TempDir()
			for name, data := range map[string][]byte{"go.mod": mod, "go.sum": sum, "main.go": []byte(b.text)} {
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command("go", "vet", ".")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("%s: the example does not build (%v):\n%s", b, err, out)
			}
		}
	}
	if built < 2 {
		t.Errorf("%d Go programs found; docs/tasks.md alone has 2, the scan is broken", built)
	}
}
