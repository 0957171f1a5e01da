package configs

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.golden from the current messages")

// TestGoldenProblems pins the exact wording of problems: every
// testdata/golden/NAME.yaml is loaded and its problems compared with NAME.golden.
func TestGoldenProblems(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			_, err = load([]source{{filepath.ToSlash(file), data}}, mapLookup(nil))
			if err == nil {
				t.Fatal("a golden input must have problems")
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGoldenProblems -update)", err)
			}
			if got != string(want) {
				t.Errorf("problems differ from %s (rerun with -update if intended)\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}
