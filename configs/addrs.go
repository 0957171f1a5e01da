package configs

import (
	"fmt"
	"net/netip"
	"strings"
)

// refusedRanges are the IANA special-purpose ranges a delivery never dials
// without allow_private_networks (SPEC §11): they are not globally
// reachable, so an address in them reaches this host, its network or its
// cloud provider, never the system a webhook names.
var refusedRanges = []struct {
	prefix netip.Prefix
	what   string // names the range in problems
}{
	{netip.MustParsePrefix("0.0.0.0/8"), "this network"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private, RFC 1918"},
	{netip.MustParsePrefix("100.64.0.0/10"), "CGNAT, where clouds put metadata (100.100.100.200)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local, cloud metadata"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private, RFC 1918"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private, RFC 1918"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved, and broadcast"},
	{netip.MustParsePrefix("::/128"), "unspecified"},
	{netip.MustParsePrefix("::1/128"), "loopback"},
	{netip.MustParsePrefix("100::/64"), "discard-only"},
	{netip.MustParsePrefix("2001:2::/48"), "benchmarking"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation"},
	{netip.MustParsePrefix("3fff::/20"), "documentation"},
	{netip.MustParsePrefix("fc00::/7"), "unique-local"},
	{netip.MustParsePrefix("fe80::/10"), "link-local"},
	{netip.MustParsePrefix("fec0::/10"), "site-local, deprecated but still local where routed"},
	{netip.MustParsePrefix("ff00::/8"), "multicast"},
}

// ipv4Embedding is an IPv6 range whose addresses carry IPv4 ones: traffic
// to them reaches (through a translator or a tunnel) the IPv4 inside, so
// they are judged by it.
type ipv4Embedding struct {
	prefix netip.Prefix
	what   string
	at     []ipv4At
}

// ipv4At locates one embedded IPv4 address: 4 bytes from off, each XORed
// with xor (Teredo obfuscates the client address).
type ipv4At struct {
	off int
	xor byte
}

var last32 = []ipv4At{{off: 12}}

var ipv4Embeddings = []ipv4Embedding{
	{netip.MustParsePrefix("::ffff:0:0/96"), "IPv4-mapped", last32},
	{netip.MustParsePrefix("::ffff:0:0:0/96"), "IPv4-translated", last32},
	{netip.MustParsePrefix("::/96"), "IPv4-compatible", last32},
	{netip.MustParsePrefix("64:ff9b::/96"), "NAT64", last32},
	// Local-use NAT64 (RFC 8215) is read with the /96 layout that
	// deployments use; a translator configured with a shorter prefix
	// places the IPv4 elsewhere, which this cannot know.
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use NAT64", last32},
	{netip.MustParsePrefix("2002::/16"), "6to4", []ipv4At{{off: 2}}}, // 2002:AABB:CCDD::
	// Teredo: the server at bytes 4-7, the client (the address the relay
	// sends to) obfuscated at bytes 12-15. Either being refused refuses.
	{netip.MustParsePrefix("2001::/32"), "Teredo", []ipv4At{{off: 4}, {off: 12, xor: 0xff}}},
}

// RefusedAddr reports whether a delivery refuses to dial a unless the
// outgoing configuration sets allow_private_networks (SPEC §11): an
// address in an IANA special-purpose range that is not globally reachable
// (loopback, unspecified, RFC 1918, CGNAT, link-local, documentation,
// benchmarking, multicast, reserved, unique-local...), or an IPv6 address
// embedding an IPv4 one that is refused (::ffff:169.254.169.254,
// 64:ff9b::a9fe:a9fe). The router's dial guard and `validate` both use it.
func RefusedAddr(a netip.Addr) bool {
	_, refused := refusal(a)
	return refused
}

// refusal says why a is refused: "10.0.0.0/8 (private, RFC 1918)", or for
// an embedding "the NAT64 form of 169.254.169.254, in 169.254.0.0/16 (…)".
func refusal(a netip.Addr) (string, bool) {
	if !a.IsValid() {
		return "not an address", true
	}
	a = a.WithZone("") // a zoned address matches no prefix; fe80::1%eth0 is still link-local
	for _, r := range refusedRanges {
		if r.prefix.Contains(a) {
			return fmt.Sprintf("in %s (%s)", r.prefix, r.what), true
		}
	}
	if !a.Is6() {
		return "", false
	}
	b := a.As16()
	for _, e := range ipv4Embeddings {
		if !e.prefix.Contains(a) {
			continue
		}
		for _, at := range e.at {
			v4 := netip.AddrFrom4([4]byte{b[at.off] ^ at.xor, b[at.off+1] ^ at.xor, b[at.off+2] ^ at.xor, b[at.off+3] ^ at.xor})
			if why, refused := refusal(v4); refused {
				return fmt.Sprintf("the %s form of %s, %s", e.what, v4, why), true
			}
		}
	}
	return "", false
}

// refusedHost says why a URL host is refused at load without
// allow_private_networks: "localhost" and names under .localhost (which
// resolve to loopback) and refused IP literals. Names are checked again,
// after DNS resolution, when a delivery dials.
func refusedHost(host string) (string, bool) {
	host = normalizeHost(host)
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return "a loopback name", true
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return "", false
	}
	return refusal(a)
}

// numericHost reports whether host, not being an IP literal netip reads,
// still looks like a number: 2130706433, 0x7f.1, 127.1 or 017700000001.
// No DNS name ends in an all-numeric label, and C resolvers (inet_aton)
// read such hosts as IPv4 addresses, so they are refused rather than
// guessed at.
func numericHost(host string) bool {
	host = normalizeHost(host)
	if _, err := netip.ParseAddr(host); err == nil || host == "" {
		return false
	}
	last := host[strings.LastIndexByte(host, '.')+1:]
	if strings.HasPrefix(last, "0x") && len(last) > 2 {
		last = last[2:]
		return strings.Trim(last, "0123456789abcdef") == ""
	}
	return last != "" && strings.Trim(last, "0123456789") == ""
}
