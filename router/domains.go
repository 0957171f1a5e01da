package router

import "github.com/hookgate/hookgate/configs"

// allowedHost reports whether host matches any of the allowed_domains patterns.
func allowedHost(patterns []string, host string) bool {
	for _, p := range patterns {
		if configs.MatchDomain(p, host) {
			return true
		}
	}
	return false
}
