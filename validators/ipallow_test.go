package validators

import (
	"net/http"
	"net/netip"
	"testing"

	"github.com/hookgate/hookgate/configs"
)

func TestIPAllowlist(t *testing.T) {
	pp := configs.PreProcessor{IPAllowlist: &configs.IPAllowlist{
		CIDRs:          []string{"192.0.2.0/24", "2001:db8::/32", "203.0.113.9"},
		TrustedProxies: []string{"10.0.0.0/8", "fd00::/8"},
	}}
	c := mustBuild(t, pp)
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"a peer inside a CIDR passes", "192.0.2.55:1234", nil, ""},
		{"a peer outside is rejected", "198.51.100.1:1234", nil, msgAddressRejected},
		{"a single allowed address passes", "203.0.113.9:80", nil, ""},
		{"its neighbour is rejected", "203.0.113.10:80", nil, msgAddressRejected},
		{"an IPv6 peer inside passes", "[2001:db8::1]:443", nil, ""},
		{"an IPv4-mapped IPv6 peer is compared as IPv4", "[::ffff:192.0.2.7]:443", nil, ""},
		{"XFF from an untrusted peer is ignored", "198.51.100.1:1234", []string{"192.0.2.1"}, msgAddressRejected},
		{"XFF cannot make an allowed peer look disallowed either", "192.0.2.1:1", []string{"198.51.100.1"}, ""},
		{"XFF from a trusted proxy names the client", "10.1.2.3:1234", []string{"192.0.2.1"}, ""},
		{"a disallowed client behind a trusted proxy is rejected", "10.1.2.3:1234", []string{"198.51.100.1"}, msgAddressRejected},
		{"the list is walked from the right past trusted proxies", "10.1.2.3:1", []string{"198.51.100.1, 192.0.2.1, 10.9.9.9"}, ""},
		{"a spoofed left entry is not believed", "10.1.2.3:1", []string{"192.0.2.1, 198.51.100.1"}, msgAddressRejected},
		{"several XFF lines are one list in order", "10.1.2.3:1", []string{"198.51.100.1", "192.0.2.1, 10.0.0.2"}, ""},
		{"all-trusted chain uses the leftmost", "10.1.2.3:1", []string{"10.0.0.1, 10.0.0.2"}, msgAddressRejected},
		{"IPv6 entries with brackets and ports are read", "[fd00::1]:1", []string{"[2001:db8::5]:4711"}, ""},
		{"garbage in XFF is rejected", "10.1.2.3:1", []string{"192.0.2.1, not-an-ip"}, msgAddressRejected},
		{"a trusted peer without XFF is itself the client", "10.1.2.3:1", nil, msgAddressRejected},
		{"an unparsable peer is rejected", "somewhere", nil, msgAddressRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, v := range tt.xff {
				h.Add("X-Forwarded-For", v)
			}
			r := newRequest(t, "", h, BytesBody("{}"))
			r.RemoteAddr = tt.remote
			wantResult(t, validate(t, c, r), tt.want, http.StatusForbidden)
		})
	}
}

func TestClientAddr(t *testing.T) {
	trusted := func(a netip.Addr) bool { return netip.MustParsePrefix("10.0.0.0/8").Contains(a) }
	tests := []struct {
		name, remote string
		xff          []string
		want         string
		ok           bool
	}{
		{"untrusted peer", "192.0.2.1:5", []string{"1.1.1.1"}, "192.0.2.1", true},
		{"peer without port", "192.0.2.1", nil, "192.0.2.1", true},
		{"rightmost untrusted entry", "10.0.0.1:5", []string{"1.1.1.1,2.2.2.2"}, "2.2.2.2", true},
		{"empty entries are skipped", "10.0.0.1:5", []string{"1.1.1.1, ,"}, "1.1.1.1", true},
		{"zone is dropped", "10.0.0.1:5", []string{"fe80::1%eth0"}, "fe80::1", true},
		{"bad peer", "[::1", nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := clientAddr(tt.remote, tt.xff, trusted)
			if ok != tt.ok || (ok && got.String() != tt.want) {
				t.Fatalf("clientAddr = %v, %v; want %s, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
