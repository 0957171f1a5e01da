package configs

import (
	"strings"
	"testing"
)

func mapLookup(env map[string]string) lookupFunc {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestExpandEnv(t *testing.T) {
	env := mapLookup(map[string]string{"SECRET": "s3cret", "EMPTY": "", "PORT": "9090"})
	tests := []struct {
		name, in, want string
		wantErr        string
	}{
		{"no variables is unchanged", "plain", "plain", ""},
		{"a set variable is replaced", "${SECRET}", "s3cret", ""},
		{"variables inside text are replaced", "a-${SECRET}-b", "a-s3cret-b", ""},
		{"several variables are replaced", "${PORT}:${PORT}", "9090:9090", ""},
		{"default is used when unset", "${NOPE:-fallback}", "fallback", ""},
		{"default is used when empty", "${EMPTY:-fallback}", "fallback", ""},
		{"default is not used when set", "${SECRET:-fallback}", "s3cret", ""},
		{"empty default gives empty", "${NOPE:-}", "", ""},
		{"default may contain a colon", "${NOPE:-:8080}", ":8080", ""},
		{"set but empty without default is empty", "${EMPTY}", "", ""},
		{"a lone dollar is kept", "cost $5", "cost $5", ""},
		{"a trailing dollar is kept", "a$", "a$", ""},
		{"double dollar escapes", "$${SECRET}", "${SECRET}", ""},
		{"unset without default names it", "${NOPE}", "", "environment variable NOPE is not set"},
		{"unterminated is an error", "${SECRET", "", "unterminated ${"},
		{"invalid name is an error", "${1X}", "", `invalid variable name "1X"`},
		{"empty name is an error", "${}", "", `invalid variable name ""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := expandEnv(tt.in, env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("expandEnv(%q) error = %v; want one containing %q", tt.in, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("error %q reveals a variable's value", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("expandEnv(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}
