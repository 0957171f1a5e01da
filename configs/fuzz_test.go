package configs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks that loading never panics or hangs, and that a result is
// always either a config or at least one well-formed problem.
func FuzzParse(f *testing.F) {
	for _, glob := range []string{"examples/*.yaml", "testdata/golden/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte(secretsDoc))
	env := mapLookup(map[string]string{"SET": "value", "EMPTY": ""})
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := load([]source{{"f.yaml", data}}, env)
		if err == nil {
			if cfg == nil {
				t.Fatal("no config and no error")
			}
			_ = cfg.Summary()
			_ = cfg.Secrets()
			return
		}
		ps, ok := err.(Problems)
		if !ok || len(ps) == 0 {
			t.Fatalf("error %T %v is not a non-empty Problems", err, err)
		}
		for _, p := range ps {
			if p.File != "f.yaml" || p.Msg == "" || p.Line < 0 {
				t.Fatalf("malformed problem %+v", p)
			}
		}
		if !strings.HasPrefix(ps.Error(), "f.yaml") {
			t.Fatalf("Error() does not start with the file: %q", ps.Error())
		}
	})
}
