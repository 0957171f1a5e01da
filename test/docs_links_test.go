package test

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var (
	// mdLink is an inline link or image, [text](target "title").
	mdLink = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	// refLink is a reference definition, [label]: target.
	refLink = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s*(\S+)`)
	// autoLink is <scheme:…>.
	autoLink   = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9+.-]*:[^>\s]*)>`)
	hasScheme  = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
	inlineCode = regexp.MustCompile("`+[^`]*`+")
	headingRe  = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	slugDrop   = regexp.MustCompile(`[^\p{L}\p{N} _-]`)
)

// prose returns the lines of a Markdown file outside fenced blocks, with
// inline code removed: where links and headings are.
func prose(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, " "), "```") {
			in = !in
			out = append(out, "")
			continue
		}
		if in {
			out = append(out, "")
			continue
		}
		out = append(out, inlineCode.ReplaceAllString(line, ""))
	}
	return out, nil
}

// anchors are the heading ids GitHub gives a Markdown file.
func anchors(path string) (map[string]bool, error) {
	lines, err := prose(path)
	if err != nil {
		return nil, err
	}
	seen := map[string]int{}
	ids := map[string]bool{}
	for _, line := range lines {
		m := headingRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		id := strings.ReplaceAll(slugDrop.ReplaceAllString(strings.ToLower(m[1]), ""), " ", "-")
		if n := seen[id]; n > 0 {
			seen[id]++
			id = fmt.Sprintf("%s-%d", id, n)
		} else {
			seen[id] = 1
		}
		ids[id] = true
	}
	return ids, nil
}

// linksOf returns the link targets of one prose line.
func linksOf(line string) []string {
	var targets []string
	for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
		targets = append(targets, m[1])
	}
	for _, m := range autoLink.FindAllStringSubmatch(line, -1) {
		targets = append(targets, m[1])
	}
	if m := refLink.FindStringSubmatch(line); m != nil {
		targets = append(targets, strings.Trim(m[1], "<>"))
	}
	return targets
}

// publicSite says why an absolute URL is not a link to a public web site,
// or "" when it is one: http or https, to a registered domain name, not a
// loopback, private or reserved name or an address.
func publicSite(target string) string {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "only http and https links may leave the repository"
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if net.ParseIP(host) != nil {
		return "an address is not a public site; give its name, or write it as code"
	}
	if !strings.Contains(host, ".") {
		return "not a public host name"
	}
	for _, reserved := range []string{"localhost", "local", "internal", "test", "invalid", "example", "example.com", "example.net", "example.org", "home.arpa"} {
		if host == reserved || strings.HasSuffix(host, "."+reserved) {
			return "a reserved name, not a public site; write it as code"
		}
	}
	return ""
}

// linkProblems checks every link of pages, whose paths are under root:
// relative links resolve to a file of the repository
// and to a heading that exists; absolute ones go to public web sites, and
// the front page (README.md) has none; and no page refers to the product
// contract, which users do not have.
func linkProblems(root string, pages []manualPage) ([]string, error) {
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	headings := map[string]map[string]bool{}
	var problems []string
	for _, p := range pages {
		lines, err := prose(p.path)
		if err != nil {
			return nil, err
		}
		for n, line := range lines {
			at := fmt.Sprintf("%s:%d", p.name, n+1)
			for _, bad := range []string{"SPEC", "§", "../shared"} {
				if strings.Contains(line, bad) {
					problems = append(problems, fmt.Sprintf("%s: %q refers to a document users do not have; say it here instead", at, bad))
				}
			}
			for _, target := range linksOf(line) {
				if hasScheme.MatchString(target) {
					if p.name == "README.md" {
						problems = append(problems, fmt.Sprintf("%s: link %s: the front page links only into the repository; link the manual page that names it", at, target))
					} else if why := publicSite(target); why != "" {
						problems = append(problems, fmt.Sprintf("%s: link %s: %s", at, target, why))
					}
					continue
				}
				path, anchor, _ := strings.Cut(target, "#")
				if strings.HasPrefix(path, "/") {
					problems = append(problems, fmt.Sprintf("%s: link %s: make it relative to the page", at, target))
					continue
				}
				dest := p.path
				if path != "" {
					dest = filepath.Join(filepath.Dir(p.path), path)
				}
				abs, err := filepath.Abs(dest)
				if err != nil {
					return nil, err
				}
				rel, err := filepath.Rel(absRoot, abs)
				if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
					problems = append(problems, fmt.Sprintf("%s: link %s leaves the repository", at, target))
					continue
				}
				st, err := os.Stat(dest)
				if err != nil {
					problems = append(problems, fmt.Sprintf("%s: link %s: no such file", at, target))
					continue
				}
				if anchor == "" || st.IsDir() || !strings.HasSuffix(dest, ".md") {
					continue
				}
				if headings[abs] == nil {
					if headings[abs], err = anchors(dest); err != nil {
						return nil, err
					}
				}
				if !headings[abs][anchor] {
					problems = append(problems, fmt.Sprintf("%s: link %s: %s has no heading #%s", at, target, filepath.Base(dest), anchor))
				}
			}
		}
	}
	return problems, nil
}

// TestDocsLinksStayInTheRepository checks every link of README.md and the
// manual (see linkProblems).
func TestDocsLinksStayInTheRepository(t *testing.T) {
	problems, err := linkProblems(repoRoot, manualPages(t, repoRoot))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// TestDocsIndexListsEveryPage: a page no index links is a page no reader
// finds. Each page of docs/ is linked from docs/README.md or from the
// README.md of its own directory.
func TestDocsIndexListsEveryPage(t *testing.T) {
	linked := map[string]bool{} // repository-relative paths linked from an index
	for _, p := range manualPages(t, repoRoot) {
		if filepath.Base(p.name) != "README.md" || p.name == "README.md" {
			continue
		}
		lines, err := prose(p.path)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range lines {
			for _, target := range linksOf(line) {
				path, _, _ := strings.Cut(target, "#")
				if path != "" && !strings.Contains(path, "://") {
					linked[filepath.ToSlash(filepath.Join(filepath.Dir(p.name), path))] = true
				}
			}
		}
	}
	var want []string
	for _, p := range manualPages(t, repoRoot) {
		if p.name != "README.md" && p.name != "docs/README.md" {
			want = append(want, p.name)
		}
	}
	for _, name := range want {
		if !linked[name] {
			t.Errorf("%s is not linked from docs/README.md (or its directory's README.md); add it to the index", name)
		}
	}
}

// TestDocsLinkCheckCatchesBrokenLinks shows that linkProblems fails on what
// it is there to catch, on a small manual written for the purpose.
func TestDocsLinkCheckCatchesBrokenLinks(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"README.md":      "[manual](docs/README.md) [gone](docs/gone.md) [spec](../shared/SPEC.md)\n[Go](https://go.dev/)\n",
		"docs/README.md": "# Manual\n\n## Writers' rule\n\n[self](#writers-rule) [page](page.md#a-heading) [bad anchor](page.md#nope)\n",
		"docs/page.md":   "# Page\n\n## A heading\n\n```yaml\n[not a link](nowhere.md)\n```\n`[code](nowhere.md)` [up](../../outside.md) [abs](/docs/page.md)\n",
		"docs/remote.md": "[site](https://go.dev/doc/) [local](http://127.0.0.1:8081/) <http://localhost:8080/> [ex](https://api.example.com/x)\n[ftp]: ftp://files.example.org/\nSee §7.\n",
		"docs/sub/x.md":  "[back](../page.md#a-heading)\n",
		"configs/REF.md": "# Ref\n",
	}
	var pages []manualPage
	for name, text := range files {
		path := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".md") && !strings.HasPrefix(name, "configs/") {
			pages = append(pages, manualPage{path, name})
		}
	}
	got, err := linkProblems(root, pages)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"README.md:1: link docs/gone.md: no such file",
		"README.md:1: link ../shared/SPEC.md leaves the repository",
		`README.md:1: "SPEC" refers to a document users do not have; say it here instead`,
		`README.md:1: "../shared" refers to a document users do not have; say it here instead`,
		"README.md:2: link https://go.dev/: the front page links only into the repository; link the manual page that names it",
		"docs/README.md:5: link page.md#nope: page.md has no heading #nope",
		"docs/page.md:8: link ../../outside.md leaves the repository",
		"docs/page.md:8: link /docs/page.md: make it relative to the page",
		"docs/remote.md:1: link http://127.0.0.1:8081/: an address is not a public site; give its name, or write it as code",
		"docs/remote.md:1: link http://localhost:8080/: not a public host name",
		"docs/remote.md:1: link https://api.example.com/x: a reserved name, not a public site; write it as code",
		"docs/remote.md:2: link ftp://files.example.org/: only http and https links may leave the repository",
		`docs/remote.md:3: "§" refers to a document users do not have; say it here instead`,
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("problems found:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}
