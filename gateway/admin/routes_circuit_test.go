package admin

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// SPEC §12: /api/v1/routes shows each pair's circuit: open with its failures
// in a row and the end of the window (RFC 3339) once a destination failed
// `failures` times, closed for the others and for a disabled route.
func TestRoutesShowEachPairsCircuit(t *testing.T) {
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(failing.Close)
	ok := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(ok.Close)
	s := startStack(t, `
admin: {listen: "127.0.0.1:0", token: t0ken-for-tests}
webhooks:
  - {name: Orders, incoming: orders}
incoming:
  - {name: orders, parser: json}
outgoing:
  - name: down
    url: "`+failing.URL+`"
    allow_private_networks: true
    retry: {initial_interval: 10ms, max_interval: 10ms}
    circuit: {failures: 2, open_for: 1h, max_open_for: 1h}
  - {name: ok, url: "`+ok.URL+`", allow_private_networks: true}
routes:
  - {name: all, incoming: orders, outgoing: [down, ok]}
  - {name: off, incoming: orders, outgoing: [down], disabled: true}
`)
	before := time.Now()
	if r := s.post("orders", `{"id":1}`); r.Status != http.StatusOK {
		t.Fatalf("post: %d %s", r.Status, r.Body)
	}
	type circuit struct {
		State    string
		Failures int
		Until    *string
	}
	read := func() map[string]circuit {
		r := s.api("GET", "/api/v1/routes")
		if r.Status != http.StatusOK {
			t.Fatalf("/api/v1/routes: %d %s", r.Status, r.Body)
		}
		var got struct {
			Routes []struct {
				Name     string
				Outgoing []struct {
					Name    string
					Circuit circuit
				}
			}
		}
		r.json(t, &got)
		out := map[string]circuit{}
		for _, rt := range got.Routes {
			for _, p := range rt.Outgoing {
				out[rt.Name+"/"+p.Name] = p.Circuit
			}
		}
		return out
	}
	eventually(t, "all/down open", func() bool { return read()["all/down"].State == "open" })
	c := read()
	down := c["all/down"]
	if down.Failures != 2 || down.Until == nil {
		t.Fatalf("all/down circuit %+v, want 2 failures and an until", down)
	}
	until, err := time.Parse(time.RFC3339, *down.Until)
	if err != nil {
		t.Fatalf("until %q is no RFC 3339 time: %v", *down.Until, err)
	}
	if until.Before(before.Add(time.Hour-time.Second)) || until.After(time.Now().Add(time.Hour+time.Second)) {
		t.Errorf("until %v, want open_for (1h) after the second failure", until)
	}
	for _, pair := range []string{"all/ok", "off/down"} {
		if got := c[pair]; got.State != "closed" || got.Failures != 0 || got.Until != nil {
			t.Errorf("%s circuit %+v, want closed, 0 failures, no until", pair, got)
		}
	}
}
