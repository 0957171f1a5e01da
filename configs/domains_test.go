package configs

import "testing"

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
