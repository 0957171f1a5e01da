package validators

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/hookgate/hookgate/configs"
)

// ipAllowlist passes when the client address is inside one of the CIDRs.
// The client is the TCP peer, unless the peer is a trusted proxy: then
// X-Forwarded-For is walked from the right, past trusted proxies, and the
// first address not trusted is the client.
type ipAllowlist struct {
	allowed []netip.Prefix
	trusted []netip.Prefix
}

var _ Validator = (*ipAllowlist)(nil)

func newIPAllowlist(c configs.IPAllowlist, path string) (*ipAllowlist, error) {
	if len(c.CIDRs) == 0 {
		return nil, fmt.Errorf("%s.cidrs: missing; list the networks allowed, e.g. [192.0.2.0/24]", path)
	}
	allowed, err := parsePrefixes(c.CIDRs, path+".cidrs")
	if err != nil {
		return nil, err
	}
	trusted, err := parsePrefixes(c.TrustedProxies, path+".trusted_proxies")
	if err != nil {
		return nil, err
	}
	return &ipAllowlist{allowed: allowed, trusted: trusted}, nil
}

// parsePrefixes accepts CIDRs and bare addresses (a single host).
func parsePrefixes(ss []string, path string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(ss))
	for i, s := range ss {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, unmapPrefix(p.Masked()))
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %q is not a CIDR or an address; write e.g. 192.0.2.0/24, 2001:db8::/32 or 192.0.2.7", path, i, s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// unmapPrefix turns ::ffff:a.b.c.d/n (n >= 96) into a.b.c.d/(n-96), so that
// it matches the unmapped addresses we compare with.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}

func containsAddr(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// NeedsBody is false: the client is the peer address or X-Forwarded-For.
func (v *ipAllowlist) NeedsBody() bool { return false }

// Validate checks the client address.
func (v *ipAllowlist) Validate(_ context.Context, r *Request) error {
	client, ok := clientAddr(r.RemoteAddr, r.Header["X-Forwarded-For"], func(a netip.Addr) bool {
		return containsAddr(v.trusted, a)
	})
	if !ok || !containsAddr(v.allowed, client) {
		return &Rejection{Status: http.StatusForbidden, Message: msgAddressRejected}
	}
	return nil
}

// clientAddr finds the client behind remoteAddr ("ip:port" of the peer).
// X-Forwarded-For (every header line, in order) is believed only when the
// peer is trusted; it is read from the right, skipping trusted proxies,
// because only the entries appended by our own proxies can be believed.
// When every entry is trusted the leftmost is the client. ok is false when
// the peer or the deciding entry is not an address.
func clientAddr(remoteAddr string, xff []string, trusted func(netip.Addr) bool) (netip.Addr, bool) {
	peer, ok := parseHostAddr(remoteAddr)
	if !ok {
		return netip.Addr{}, false
	}
	if !trusted(peer) {
		return peer, true
	}
	client := peer
	for i := len(xff) - 1; i >= 0; i-- {
		line := xff[i]
		for line != "" {
			var entry string
			if j := strings.LastIndexByte(line, ','); j >= 0 {
				entry, line = line[j+1:], line[:j]
			} else {
				entry, line = line, ""
			}
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			a, ok := parseHostAddr(entry)
			if !ok {
				// Garbage where an address should be: nothing to the left
				// of it can be believed either.
				return netip.Addr{}, false
			}
			client = a
			if !trusted(a) {
				return a, true
			}
		}
	}
	return client, true
}

// parseHostAddr reads "ip", "ip:port", "[ipv6]" or "[ipv6]:port" and
// returns the address unmapped (::ffff:192.0.2.1 is 192.0.2.1), without
// a zone.
func parseHostAddr(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone(""), true
	}
	host := s
	if h, _, err := net.SplitHostPort(s); err == nil {
		host = h
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		host = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}
