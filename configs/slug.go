package configs

import (
	"regexp"
	"strings"
)

var (
	identifierRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	nameRe       = regexp.MustCompile(`^[a-z0-9_-]+$`)
)

// Slug derives a webhook identifier from its name (SPEC §3): ASCII letters
// lower-cased, every run of other characters than a-z0-9 one "-", and no
// leading or trailing "-". " Shop: Orders (EU) " becomes "shop-orders-eu".
func Slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range name {
		switch {
		case r >= 'A' && r <= 'Z':
			r += 'a' - 'A'
			fallthrough
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
	}
	return b.String()
}
