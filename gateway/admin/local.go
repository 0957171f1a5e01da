package admin

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// localOnly guards an admin listener without admin.token (SPEC §11). Such a
// listener is on loopback, which stops other machines but not a web page in
// the operator's browser: through DNS rebinding its own name resolves to
// 127.0.0.1 and it reads the API (request logs, bodies included), and a
// cross-site form can POST a reload or a replay. So every path answers only
// a Host that names loopback, which a rebound name never is, and a request
// that can change something (any method but GET and HEAD) is refused when
// its Origin is another site. With a token the token decides, as a page
// cannot send it.
func (s *Server) localOnly(next http.Handler) http.Handler {
	if !s.open {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkLocal(r); err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// clipLen bounds the Host and Origin quoted back in an error.
const clipLen = 100

func checkLocal(r *http.Request) error {
	if !loopbackHost(r.Host) {
		return &apiError{status: http.StatusForbidden, msg: fmt.Sprintf(
			"Host %q refused: without admin.token the admin listener answers only Host localhost, 127.0.0.1 or [::1] (any port), "+
				"so that a web page cannot reach it through DNS rebinding; call it by one of those names, or set admin.token",
			clip(r.Host))}
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return nil
	}
	for _, origin := range r.Header.Values("Origin") {
		if !sameOrigin(origin, r) {
			return &apiError{status: http.StatusForbidden, msg: fmt.Sprintf(
				"%s from Origin %q refused: without admin.token the admin listener accepts changes only from its own page "+
					"or from a client that sends no Origin (curl); use the operator page on this address, or set admin.token",
				r.Method, clip(origin))}
		}
	}
	return nil
}

// loopbackHost reports whether a Host header names this machine's loopback:
// localhost, 127.0.0.1 or [::1], with any port or none, in any case.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	} else if inner, ok := strings.CutPrefix(hostport, "["); ok {
		host = strings.TrimSuffix(inner, "]")
	}
	switch strings.ToLower(host) {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// sameOrigin reports whether origin (scheme://host[:port]) is the origin the
// request was sent to. "null", which sandboxed frames and file pages send,
// is never this listener's own.
func sameOrigin(origin string, r *http.Request) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return strings.EqualFold(u.Scheme, scheme) && strings.EqualFold(withPort(u.Host, scheme), withPort(r.Host, scheme))
}

// withPort adds the scheme's default port to host when it has none.
func withPort(host, scheme string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	if scheme == "https" {
		return host + ":443"
	}
	return host + ":80"
}

func clip(s string) string {
	if len(s) > clipLen {
		return s[:clipLen] + "…"
	}
	return s
}
