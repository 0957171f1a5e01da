package configs

import (
	"net/netip"
	"testing"
)

func TestMatchDomain(t *testing.T) {
	tests := []struct {
		name, pattern, host string
		want                bool
	}{
		{"a name matches itself", "erp.example.com", "erp.example.com", true},
		{"case does not matter", "ERP.example.com", "erp.EXAMPLE.com", true},
		{"a trailing dot does not matter", "erp.example.com", "erp.example.com.", true},
		{"the port is ignored", "erp.example.com", "erp.example.com:8443", true},
		{"a name does not match a subdomain", "example.com", "erp.example.com", false},
		{"a name does not match a suffix look-alike", "example.com", "badexample.com", false},
		{"a wildcard matches a subdomain", "*.example.com", "erp.example.com", true},
		{"a wildcard matches deeper subdomains", "*.example.com", "a.b.example.com", true},
		{"a wildcard does not match the apex", "*.example.com", "example.com", false},
		{"a wildcard does not match a look-alike", "*.example.com", "evilexample.com", false},
		{"a wildcard does not match a suffix trick", "*.example.com", "example.com.evil.net", false},
		{"a bare star matches nothing", "*", "example.com", false},
		{"an IPv4 literal matches itself", "192.0.2.10", "192.0.2.10", true},
		{"an IPv4 literal with port matches", "192.0.2.10", "192.0.2.10:443", true},
		{"an IPv4 literal matches only itself", "192.0.2.10", "192.0.2.11", false},
		{"an IPv6 literal matches in brackets", "2001:db8::1", "[2001:db8::1]:443", true},
		{"an IPv6 literal matches another spelling", "2001:db8::1", "2001:0db8:0:0:0:0:0:1", true},
		{"a wildcard never matches an IP", "*.2.10", "192.0.2.10", false},
		{"an empty host matches nothing", "example.com", "", false},
		{"an empty pattern matches nothing", "", "example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MatchDomain(tt.pattern, tt.host); got != tt.want {
				t.Fatalf("MatchDomain(%q, %q) = %v; want %v", tt.pattern, tt.host, got, tt.want)
			}
		})
	}
}

func TestIsPrivateAddr(t *testing.T) {
	tests := []struct {
		name, addr string
		want       bool
	}{
		{"IPv4 loopback", "127.0.0.1", true},
		{"IPv4 loopback range", "127.8.9.10", true},
		{"RFC 1918 10/8", "10.1.2.3", true},
		{"RFC 1918 172.16/12", "172.31.0.1", true},
		{"RFC 1918 192.168/16", "192.168.1.1", true},
		{"link-local (cloud metadata)", "169.254.169.254", true},
		{"unspecified IPv4", "0.0.0.0", true},
		{"IPv6 loopback", "::1", true},
		{"IPv6 unique-local", "fd00::1", true},
		{"IPv6 link-local", "fe80::1", true},
		{"unspecified IPv6", "::", true},
		{"IPv4-mapped loopback", "::ffff:127.0.0.1", true},
		{"public IPv4", "93.184.216.34", false},
		{"documentation IPv4 is public here", "192.0.2.1", false},
		{"public IPv6", "2606:4700::1111", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsPrivateAddr(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Fatalf("IsPrivateAddr(%s) = %v; want %v", tt.addr, got, tt.want)
			}
		})
	}
}

func TestPrivateHost(t *testing.T) {
	tests := []struct {
		name, host string
		want       bool
	}{
		{"localhost", "localhost", true},
		{"LOCALHOST upper case", "LOCALHOST", true},
		{"a name under .localhost", "api.localhost", true},
		{"loopback literal", "127.0.0.1", true},
		{"bracketed IPv6 loopback", "[::1]", true},
		{"public name", "erp.example.com", false},
		{"public literal", "93.184.216.34", false},
		{"a name only looking local", "localhost.example.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := privateHost(tt.host); got != tt.want {
				t.Fatalf("privateHost(%q) = %v; want %v", tt.host, got, tt.want)
			}
		})
	}
}
