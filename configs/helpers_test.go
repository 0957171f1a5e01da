package configs

import (
	"errors"
	"strings"
	"testing"
)

// parseDoc loads one document named t.yaml with the given environment.
func parseDoc(t *testing.T, doc string, env map[string]string) (*Config, Problems) {
	t.Helper()
	cfg, err := load([]source{{"t.yaml", []byte(doc)}}, mapLookup(env))
	if err == nil {
		return cfg, nil
	}
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("error is %T, not Problems: %v", err, err)
	}
	if cfg != nil {
		t.Fatal("a config came back together with problems")
	}
	return nil, ps
}

// checkProblems asserts that every want line appears in ps (as a substring of
// one problem), or, when want is empty, that there are none.
func checkProblems(t *testing.T, ps Problems, want []string) {
	t.Helper()
	if len(want) == 0 {
		if len(ps) > 0 {
			t.Fatalf("want no problems; got:\n%s", ps.Error())
		}
		return
	}
	if len(ps) == 0 {
		t.Fatalf("want problems %q; got none", want)
	}
	for _, w := range want {
		found := false
		for _, p := range ps {
			if strings.Contains(p.String(), w) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("want a problem containing\n\t%s\ngot:\n%s", w, ps.Error())
		}
	}
}
