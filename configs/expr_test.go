package configs

import (
	"strings"
	"testing"
)

// validate and the router compile alike: an expression cel-go's checker
// accepts but its planner panics on (found by the router's FuzzCELFast)
// is refused by validate too, not only when the routes load.
func TestCompileCELRefusesWhatCELGoCannotPlan(t *testing.T) {
	env, err := CELEnv()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CompileCEL(env, `item.status == "released"`); err != nil {
		t.Fatalf("a plain comparison: %v", err)
	}
	_, err = CompileCEL(env, `item != {b"": ""}`)
	if err == nil || !strings.Contains(err.Error(), "invalid CEL: cel-go cannot plan it") {
		t.Fatalf("err = %v; want the expression refused", err)
	}
}
