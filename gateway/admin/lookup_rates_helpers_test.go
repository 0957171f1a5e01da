package admin

import (
	"net/http"
	"testing"
)

// trafficStack is a logged webhook whose tasks go through one route to a
// destination that accepts and one that refuses with 400 (one attempt, then
// a dead letter), and an unlogged webhook on the same incoming.
func trafficStack(t *testing.T) (s *stack, ok, strict *counter) {
	t.Helper()
	ok, strict = newCounter(t, http.StatusOK), newCounter(t, http.StatusBadRequest)
	s = startStack(t, `
admin: {listen: "127.0.0.1:0", token: t0ken-for-tests}
webhooks:
  - {name: Orders, identifier: orders, incoming: orders, logging: true}
  - {name: Quiet, identifier: quiet, incoming: orders}
incoming:
  - {name: orders, parser: json, pattern_to_items: items}
outgoing:
  - {name: ok, url: "`+ok.URL+`", allow_private_networks: true}
  - {name: strict, url: "`+strict.URL+`", allow_private_networks: true}
routes:
  - {name: erp, incoming: orders, outgoing: [ok, strict]}
`)
	return s, ok, strict
}

// postItems posts a request of n items to identifier and returns its
// request id.
func postItems(t *testing.T, s *stack, identifier string, n int) string {
	t.Helper()
	body := `{"items":[`
	for i := range n {
		if i > 0 {
			body += ","
		}
		body += `{"n":` + string(rune('0'+i)) + `}`
	}
	r := s.post(identifier, body+`]}`)
	if r.Status != http.StatusOK {
		t.Fatalf("post to %s: %d %s", identifier, r.Status, r.Body)
	}
	return r.Header.Get("X-Request-Id")
}
