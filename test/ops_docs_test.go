package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// Every configuration in docs/operations.md passes `hookgate validate`.
func TestOperationsDocConfigsValidate(t *testing.T) {
	md, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(md, -1)
	if len(blocks) < 2 {
		t.Fatalf("docs/operations.md has %d yaml blocks, want its example configurations", len(blocks))
	}
	for i, b := range blocks {
		path := filepath.Join(t.TempDir(), "hookgate.yaml")
		if err := os.WriteFile(path, b[1], 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(binary, "validate", "-c", path).CombinedOutput(); err != nil {
			t.Errorf("block %d of docs/operations.md does not validate: %v\n%s\n%s", i+1, err, out, b[1])
		}
	}
}
