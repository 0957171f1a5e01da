package test

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	Line  int    // where it starts
	Stage int    // 0-based build stage (the FROM it follows)
	Cmd   string // upper case: FROM, RUN, COPY, …
	Args  string
}

// parseDockerfile reads the instructions of a Dockerfile: comments and
// blank lines dropped, lines ending in \ joined with the next.
func parseDockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		out     []instruction
		pending strings.Builder
		start   int
	)
	stage := -1
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if pending.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if pending.Len() == 0 {
			start = n
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			pending.WriteString(cont + " ")
			continue
		}
		pending.WriteString(line)
		cmd, args, _ := strings.Cut(pending.String(), " ")
		pending.Reset()
		cmd = strings.ToUpper(cmd)
		if cmd == "FROM" {
			stage++
		}
		out = append(out, instruction{Line: start, Stage: stage, Cmd: cmd, Args: strings.TrimSpace(args)})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// execForm decodes the JSON array of ENTRYPOINT or CMD; the shell form
// (a string) is an error, since it would put /bin/sh in front.
func execForm(t *testing.T, in instruction) []string {
	t.Helper()
	var args []string
	if err := json.Unmarshal([]byte(in.Args), &args); err != nil {
		t.Fatalf("Dockerfile:%d: %s %s: want the exec form [\"…\"] (no shell in the image): %v", in.Line, in.Cmd, in.Args, err)
	}
	return args
}

// shellWords splits a command line as sh would for plain words and
// quotes, after expanding ${NAME} and $NAME from vars (a missing one is
// empty; unlike sh, inside single quotes too: the Dockerfile has none).
func shellWords(line string, vars map[string]string) []string {
	line = os.Expand(line, func(k string) string { return vars[k] })
	var (
		words []string
		cur   strings.Builder
		in    bool // inside a word
		quote rune
	)
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				words = append(words, cur.String())
			}
			cur.Reset()
			in = false
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}

// dockerignore is the patterns of a .dockerignore, in order.
type dockerignore []struct {
	re     *regexp.Regexp
	negate bool
}

// readDockerignore compiles a .dockerignore as Docker reads it: paths
// relative to the context root, * and ? within one segment, ** across
// segments, a later !pattern re-including, a matched directory excluding
// everything under it.
func readDockerignore(t *testing.T, path string) dockerignore {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out dockerignore
	for line := range strings.Lines(string(data)) {
		p := strings.TrimSpace(line)
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(filepath.Clean(strings.TrimPrefix(p, "!")), "/")
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(p); i++ {
			switch {
			case strings.HasPrefix(p[i:], "**/"):
				re.WriteString("(.*/)?")
				i += 2
			case strings.HasPrefix(p[i:], "**"):
				re.WriteString(".*")
				i++
			case p[i] == '*':
				re.WriteString("[^/]*")
			case p[i] == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(p[i : i+1]))
			}
		}
		re.WriteString("$")
		out = append(out, struct {
			re     *regexp.Regexp
			negate bool
		}{regexp.MustCompile(re.String()), neg})
	}
	return out
}

// ignored reports whether rel (slash-separated, relative to the context)
// is left out of the build context: the last pattern matching it or one
// of its parent directories decides.
func (d dockerignore) ignored(rel string) bool {
	out := false
	for _, p := range d {
		for prefix := rel; ; {
			if p.re.MatchString(prefix) {
				out = !p.negate
				break
			}
			i := strings.LastIndex(prefix, "/")
			if i < 0 {
				break
			}
			prefix = prefix[:i]
		}
	}
	return out
}

// copyContext copies the files of root that d does not ignore into dst,
// as `docker build` sends them to the builder.
func copyContext(t *testing.T, root, dst string, d dockerignore) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if rel == "." {
			return nil
		}
		if d.ignored(filepath.ToSlash(rel)) {
			if e.IsDir() && !d.hasNegation() {
				return filepath.SkipDir
			}
			return nil
		}
		if e.IsDir() || !e.Type().IsRegular() {
			return nil
		}
		return copyFile(path, filepath.Join(dst, rel))
	})
	if err != nil {
		t.Fatalf("copy the build context: %v", err)
	}
}

func (d dockerignore) hasNegation() bool {
	for _, p := range d {
		if p.negate {
			return true
		}
	}
	return false
}

func copyFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
