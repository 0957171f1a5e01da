package router

import (
	"errors"
	"net/http"
	"testing"
)

// guardedTransport is the one way out for an outgoing's deliveries and its
// token requests: the address guard unless allow_private_networks, and no
// proxy from the environment even when one is set.
func TestGuardedTransportGuardsEveryDialAndUsesNoProxy(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://proxy.example.com:3128")
	rc := newReceiver(t, nil) // 127.0.0.1
	for _, allow := range []bool{false, true} {
		o := testOutgoing("o", rc.URL)
		o.AllowPrivateNetworks = allow
		tr := guardedTransport(o, 2)
		if tr.Proxy != nil {
			t.Errorf("allow_private_networks %v: the transport has a proxy function", allow)
		}
		req, err := http.NewRequest(http.MethodGet, rc.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := tr.RoundTrip(req)
		if resp != nil {
			_ = resp.Body.Close()
		}
		tr.CloseIdleConnections()
		switch {
		case !allow && !errors.Is(err, errAddressNotAllowed):
			t.Errorf("without allow_private_networks: %v, want %v", err, errAddressNotAllowed)
		case allow && err != nil:
			t.Errorf("with allow_private_networks: %v, want the receiver's answer", err)
		}
	}
	if n := rc.count(); n != 1 {
		t.Errorf("the receiver on 127.0.0.1 got %d requests, want 1 (allowed only)", n)
	}
}
