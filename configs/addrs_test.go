package configs

import (
	"net/netip"
	"strings"
	"testing"
)

// TestRefusedAddr walks every range of SPEC §11: its first and last
// address are refused, and the public addresses just outside it pass.
func TestRefusedAddr(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		// this network, 0.0.0.0/8
		{"0.0.0.0", true}, {"0.255.255.255", true}, {"1.0.0.0", false},
		// RFC 1918
		{"9.255.255.255", false}, {"10.0.0.0", true}, {"10.255.255.255", true}, {"11.0.0.0", false},
		{"172.15.255.255", false}, {"172.16.0.0", true}, {"172.31.255.255", true}, {"172.32.0.0", false},
		{"192.167.255.255", false}, {"192.168.0.0", true}, {"192.168.255.255", true}, {"192.169.0.0", false},
		// CGNAT, and the metadata address a cloud puts there
		{"100.63.255.255", false}, {"100.64.0.0", true}, {"100.100.100.200", true}, {"100.127.255.255", true}, {"100.128.0.0", false},
		// loopback
		{"126.255.255.255", false}, {"127.0.0.1", true}, {"127.255.255.255", true}, {"128.0.0.0", false},
		// link-local, 169.254.169.254 metadata
		{"169.253.255.255", false}, {"169.254.0.0", true}, {"169.254.169.254", true}, {"169.254.255.255", true}, {"169.255.0.0", false},
		// IETF protocol assignments, then TEST-NET-1 right after it
		{"191.255.255.255", false}, {"192.0.0.0", true}, {"192.0.0.255", true}, {"192.0.1.0", false},
		{"192.0.1.255", false}, {"192.0.2.0", true}, {"192.0.2.255", true}, {"192.0.3.0", false},
		// benchmarking
		{"198.17.255.255", false}, {"198.18.0.0", true}, {"198.19.255.255", true}, {"198.20.0.0", false},
		// TEST-NET-2 and -3
		{"198.51.99.255", false}, {"198.51.100.0", true}, {"198.51.100.255", true}, {"198.51.101.0", false},
		{"203.0.112.255", false}, {"203.0.113.0", true}, {"203.0.113.255", true}, {"203.0.114.0", false},
		// multicast, reserved, broadcast
		{"223.255.255.255", false}, {"224.0.0.0", true}, {"239.255.255.255", true}, {"240.0.0.0", true}, {"255.255.255.255", true},
		// public IPv4
		{"1.1.1.1", false}, {"8.8.8.8", false}, {"93.184.216.34", false},

		// IPv6 unspecified, loopback
		{"::", true}, {"::1", true},
		// discard-only 100::/64
		{"100::", true}, {"100::ffff:ffff:ffff:ffff", true}, {"100:0:0:1::", false},
		// benchmarking 2001:2::/48
		{"2001:1:ffff:ffff:ffff:ffff:ffff:ffff", false}, {"2001:2::", true}, {"2001:2:0:ffff:ffff:ffff:ffff:ffff", true}, {"2001:2:1::", false},
		// documentation
		{"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false}, {"2001:db8::", true}, {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true}, {"2001:db9::", false},
		{"3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false}, {"3fff::", true}, {"3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", true}, {"3fff:1000::", false},
		// unique-local, link-local, site-local, multicast
		{"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false}, {"fc00::", true}, {"fd12:3456::1", true}, {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"fe80::", true}, {"fe80::1%eth0", true}, {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"fec0::1", true}, {"feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
		{"ff00::", true}, {"ff02::1", true}, {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true},
		// public IPv6
		{"2606:4700:4700::1111", false}, {"2a00:1450:4001:81b::200e", false},

		// IPv6 forms of IPv4 addresses, judged by the IPv4 inside
		{"::ffff:127.0.0.1", true}, {"::ffff:169.254.169.254", true}, {"::ffff:8.8.8.8", false},
		{"::ffff:0:a9fe:a9fe", true}, {"::ffff:0:808:808", false}, // IPv4-translated
		{"::10.0.0.1", true}, {"::8.8.8.8", false}, // IPv4-compatible
		{"64:ff9b::a9fe:a9fe", true}, {"64:ff9b::10.1.2.3", true}, {"64:ff9b::808:808", false}, // NAT64
		{"64:ff9b:1::a9fe:a9fe", true}, {"64:ff9b:1:ffff::6464:64c8", true}, {"64:ff9b:1::808:808", false}, // local-use NAT64
		{"2002:a9fe:a9fe::", true}, {"2002:7f00:1::1", true}, {"2002:0808:0808::", false}, {"2002:0808:0808:ffff::1", false}, // 6to4
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2", true}, // RFC 4380's example: its client 192.0.2.45 is documentation
		{"2001:0:808:808::fefe:fefe", false},           // server 8.8.8.8, client 1.1.1.1
		{"2001:0:808:808::5601:5601", true},            // client 169.254.169.254
		{"2001:0:a9fe:a9fe::fefe:fefe", true},          // server 169.254.169.254
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := RefusedAddr(netip.MustParseAddr(tt.addr)); got != tt.want {
				why, _ := refusal(netip.MustParseAddr(tt.addr))
				t.Fatalf("RefusedAddr(%s) = %v (%s); want %v", tt.addr, got, why, tt.want)
			}
		})
	}
	if !RefusedAddr(netip.Addr{}) {
		t.Error("the zero Addr passes; an address that cannot be read must be refused")
	}
}

func TestRefusalNamesTheRange(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"100.100.100.200", "in 100.64.0.0/10 (CGNAT"},
		{"64:ff9b::a9fe:a9fe", "the NAT64 form of 169.254.169.254, in 169.254.0.0/16 (link-local"},
		{"2001:0:808:808::5601:5601", "the Teredo form of 169.254.169.254"},
	}
	for _, tt := range tests {
		if why, _ := refusal(netip.MustParseAddr(tt.addr)); !strings.HasPrefix(why, tt.want) {
			t.Errorf("refusal(%s) = %q; want it to start %q", tt.addr, why, tt.want)
		}
	}
}

// TestRefusedRangesAreWellFormed guards the table itself: a prefix with host
// bits set (10.0.0.1/8) would still match, but reads as a mistake.
func TestRefusedRangesAreWellFormed(t *testing.T) {
	for _, r := range refusedRanges {
		if r.prefix != r.prefix.Masked() || r.what == "" {
			t.Errorf("range %s (%q): write it masked (%s), with a name", r.prefix, r.what, r.prefix.Masked())
		}
	}
	for _, e := range ipv4Embeddings {
		if e.prefix != e.prefix.Masked() || !e.prefix.Addr().Is6() || e.prefix.Addr().Is4In6() && e.prefix.Bits() < 96 {
			t.Errorf("embedding %s: write an IPv6 prefix, masked", e.prefix)
		}
	}
}

func TestRefusedHost(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"LOCALHOST", true},
		{"api.localhost", true},
		{"localhost.", true},
		{"127.0.0.1", true},
		{"[::1]", true},
		{"100.100.100.200", true},
		{"erp.example.com", false},
		{"93.184.216.34", false},
		{"localhost.example.com", false},
	}
	for _, tt := range tests {
		if _, got := refusedHost(tt.host); got != tt.want {
			t.Errorf("refusedHost(%q) = %v; want %v", tt.host, got, tt.want)
		}
	}
}

func TestNumericHost(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"2130706433", true},
		{"127.1", true},
		{"0x7f.0.0.1", true},
		{"0x7f000001", true},
		{"017700000001", true},
		{"1.2.3.4.5", true},
		{"127.0.0.1", false}, // an address, judged as one
		{"::1", false},
		{"erp.example.com", false},
		{"api.cafe", false},
		{"0x.example", false},
		{"3com.com", false},
	}
	for _, tt := range tests {
		if got := numericHost(tt.host); got != tt.want {
			t.Errorf("numericHost(%q) = %v; want %v", tt.host, got, tt.want)
		}
	}
}

// FuzzRefusedAddr checks that every IPv6 form embedding an IPv4 address
// is judged exactly like that address, whatever the other bits hold.
func FuzzRefusedAddr(f *testing.F) {
	f.Add(byte(169), byte(254), byte(169), byte(254), []byte{})
	f.Add(byte(8), byte(8), byte(8), byte(8), []byte{1, 2, 3})
	f.Add(byte(100), byte(100), byte(100), byte(200), []byte{0xff, 0xff})
	f.Fuzz(func(t *testing.T, a, b, c, d byte, bits []byte) {
		v4 := netip.AddrFrom4([4]byte{a, b, c, d})
		want := RefusedAddr(v4)
		var rest [16]byte
		copy(rest[:], bits)
		forms := map[string][16]byte{
			"mapped":          {10: 0xff, 11: 0xff, 12: a, 13: b, 14: c, 15: d},
			"translated":      {8: 0xff, 9: 0xff, 12: a, 13: b, 14: c, 15: d},
			"NAT64":           {0: 0, 1: 0x64, 2: 0xff, 3: 0x9b, 12: a, 13: b, 14: c, 15: d},
			"local-use NAT64": {0: 0, 1: 0x64, 2: 0xff, 3: 0x9b, 5: 1, 6: rest[6], 7: rest[7], 8: rest[8], 9: rest[9], 10: rest[10], 11: rest[11], 12: a, 13: b, 14: c, 15: d},
			"6to4": {0: 0x20, 1: 0x02, 2: a, 3: b, 4: c, 5: d, 6: rest[6], 7: rest[7], 8: rest[8], 9: rest[9],
				10: rest[10], 11: rest[11], 12: rest[12], 13: rest[13], 14: rest[14], 15: rest[15]},
			// server 8.8.8.8, which passes, so the client decides
			"Teredo": {0: 0x20, 1: 0x01, 4: 8, 5: 8, 6: 8, 7: 8, 8: rest[8], 9: rest[9], 10: rest[10], 11: rest[11],
				12: a ^ 0xff, 13: b ^ 0xff, 14: c ^ 0xff, 15: d ^ 0xff},
		}
		for name, raw := range forms {
			v6 := netip.AddrFrom16(raw)
			if got := RefusedAddr(v6); got != want {
				t.Errorf("%s form %s: refused %v, but %s: refused %v", name, v6, got, v4, want)
			}
		}
		// Any 16 bytes: a verdict, never a panic, and zones change nothing.
		var any16 [16]byte
		copy(any16[:], append([]byte{a, b, c, d}, bits...))
		v6 := netip.AddrFrom16(any16)
		if RefusedAddr(v6) != RefusedAddr(v6.WithZone("eth0")) {
			t.Errorf("%s is judged differently with a zone", v6)
		}
	})
}
