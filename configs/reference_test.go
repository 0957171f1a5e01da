package configs

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

var yamlBlock = regexp.MustCompile("(?s)```yaml\n(.*?)```")

// TestReferenceMatchesSchema keeps REFERENCE.md honest: its configuration is
// valid, uses every key of every table in schema.go, and no other key.
func TestReferenceMatchesSchema(t *testing.T) {
	md, err := os.ReadFile("REFERENCE.md")
	if err != nil {
		t.Fatal(err)
	}
	m := yamlBlock.FindSubmatch(md)
	if m == nil {
		t.Fatal("REFERENCE.md has no ```yaml block")
	}
	doc := m[1]
	if _, err := load([]source{{"REFERENCE.md", doc}}, mapLookup(nil)); err != nil {
		t.Fatalf("the reference configuration does not load:\n%v", err)
	}

	d := newDecoder("REFERENCE.md", mapLookup(nil))
	d.tables = map[string]fields{}
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		t.Fatal(err)
	}
	d.object(root.Content[0], "", d.topFields(Default(), map[string]int{}))

	written := map[string]map[string]bool{} // schema path -> keys written in the reference
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.MappingNode:
			if written[path] == nil {
				written[path] = map[string]bool{}
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				written[path][k] = true
				walk(n.Content[i+1], join(path, k))
			}
		case yaml.SequenceNode:
			for _, e := range n.Content {
				walk(e, path)
			}
		}
	}
	walk(root.Content[0], "")

	for path, fs := range d.tables {
		for _, f := range fs {
			if !written[path][f.key] {
				t.Errorf("REFERENCE.md does not document %s", join(path, f.key))
			}
		}
	}
	for path, keys := range written {
		fs, ok := d.tables[path]
		if !ok {
			continue // a free-form map: headers, map, set, rename values
		}
		for k := range keys {
			if !slices.ContainsFunc(fs, func(f field) bool { return f.key == k }) && !strings.HasPrefix(k, "x-") {
				t.Errorf("REFERENCE.md documents %s, which the schema does not have", join(path, k))
			}
		}
	}
	if len(d.tables) < 20 {
		t.Fatalf("only %d tables reached; the walk is broken", len(d.tables))
	}
}
