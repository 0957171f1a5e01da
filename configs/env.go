package configs

import (
	"fmt"
	"strings"
)

// lookupFunc is os.LookupEnv, handed in so tests need no process environment.
type lookupFunc func(string) (string, bool)

// envError is a mistake in a ${...} expansion. msg quotes the text around
// it; secret is the same advice without quoting, for the value of a secret
// key, whose text must not appear in a problem (SPEC §11).
type envError struct{ msg, secret string }

func (e *envError) Error() string { return e.msg }

// expandEnv replaces ${NAME} and ${NAME:-default} in s. A lone "$" is kept;
// "$${" writes a literal "${". Unset variables without a default are errors
// naming the variable (never its value: the value may be a secret).
func expandEnv(s string, lookup lookupFunc) (string, *envError) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "$")
		if i < 0 || i == len(s)-1 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			s = s[i+3:]
			continue
		case s[i+1] != '{':
			b.WriteByte('$')
			s = s[i+1:]
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", &envError{
				msg:    fmt.Sprintf("unterminated ${ in %q; write ${NAME} or ${NAME:-default}", clip(s[i:])),
				secret: "unterminated ${ in this secret (not shown); write ${NAME} or ${NAME:-default}, or $${ for a literal ${",
			}
		}
		expr := s[i+2 : i+end]
		s = s[i+end+1:]
		name, def, hasDef := strings.Cut(expr, ":-")
		if !validEnvName(name) {
			return "", &envError{
				msg:    fmt.Sprintf("invalid variable name %q in ${%s}; names are letters, digits and _", name, clip(expr)),
				secret: "invalid variable name in a ${...} of this secret (not shown); names are letters, digits and _, and $${ writes a literal ${",
			}
		}
		v, ok := lookup(name)
		switch {
		case hasDef && v == "":
			v = def
		case !ok:
			msg := fmt.Sprintf("environment variable %s is not set; set it or write ${%s:-default}", name, name)
			return "", &envError{msg: msg, secret: msg}
		}
		b.WriteString(v)
	}
}

func validEnvName(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, c := range []byte(s) {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// clipLen is how much of a value messages quote.
const clipLen = 40

// clip shortens text quoted in messages.
func clip(s string) string {
	if len(s) > clipLen {
		return s[:clipLen] + "…"
	}
	return s
}
