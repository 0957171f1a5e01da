package router

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"github.com/hookgate/hookgate/configs"
)

// errAddressNotAllowed is the dial refusal of the SSRF guard; its text is the
// hookgate-error of the dead letter (SPEC §6).
var errAddressNotAllowed = errors.New("destination address not allowed")

// guardControl is a net.Dialer Control hook refusing what configs.RefusedAddr
// names (the special-purpose ranges of SPEC §11). It runs after DNS resolution on
// the exact address about to be dialled, so DNS rebinding cannot get round it.
func guardControl(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return errAddressNotAllowed
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || configs.RefusedAddr(ip) {
		return errAddressNotAllowed
	}
	return nil
}

// guardedTransport is how everything an outgoing sends leaves hookgate,
// its deliveries and its OAuth2 token requests alike (SPEC §11): dials
// refused by guardControl unless allow_private_networks, no proxy from the
// environment (the guard must see the peer's own address, and no
// credential may cross a proxy nobody configured here), o.Timeout to
// connect. idle is how many idle connections to keep to the host.
func guardedTransport(o configs.Outgoing, idle int) *http.Transport {
	dialer := &net.Dialer{Timeout: o.Timeout, KeepAlive: 30 * time.Second}
	if !o.AllowPrivateNetworks {
		dialer.Control = guardControl
	}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          idle,
		MaxIdleConnsPerHost:   idle,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}
