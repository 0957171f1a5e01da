package configs

import (
	"net"
	"net/netip"
	"strings"
)

// MatchDomain reports whether host is covered by an allowed_domains pattern
// (SPEC §6). Only the host counts, never a port: "example.com:8443" is host
// example.com. A name matches itself (case-insensitive, trailing dot ignored),
// "*.example.com" matches every subdomain at any depth but not example.com,
// and an IP literal matches only the same address.
func MatchDomain(pattern, host string) bool {
	pattern = normalizeHost(pattern)
	host = normalizeHost(stripPort(host))
	if pattern == "" || host == "" {
		return false
	}
	if p, err := netip.ParseAddr(pattern); err == nil {
		h, err := netip.ParseAddr(host)
		return err == nil && p.Unmap() == h.Unmap()
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return false // a name or wildcard never covers an IP literal
	}
	if suffix, ok := strings.CutPrefix(pattern, "*."); ok {
		return suffix != "" && !strings.Contains(suffix, "*") && strings.HasSuffix(host, "."+suffix)
	}
	return !strings.Contains(pattern, "*") && host == pattern
}

func normalizeHost(h string) string {
	h = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
	return strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
}

// stripPort removes ":port" from host:port and [v6]:port, leaving bare IPv6 alone.
func stripPort(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return h
}
