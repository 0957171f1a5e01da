package router

import (
	"errors"
	"net"
	"net/netip"
	"syscall"

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
