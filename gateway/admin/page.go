package admin

import (
	_ "embed" // the operator page's files
	"net/http"
)

// The operator page: a shell that holds no data, its script and its style.
// Everything it shows comes from /api/v1 with the operator's token.
var (
	//go:embed page/page.html
	pageHTML string
	//go:embed page/page.js
	pageJS string
	//go:embed page/page.css
	pageCSS string
)

// pageCSP lets the page load only its own script and style and talk only to
// this listener: request bodies and headers shown on it come from untrusted
// senders, so no inline script, no other origin, no framing.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// registerPage adds the operator page. Its three files are served without
// the token: they are the same for everyone and carry no data. "/{$}" is
// "/" alone, so every other unknown path still answers the API's JSON 404.
func (s *Server) registerPage() {
	for _, a := range []struct{ pattern, contentType, body string }{
		{"/{$}", "text/html; charset=utf-8", pageHTML},
		{"/page.js", "text/javascript; charset=utf-8", pageJS},
		{"/page.css", "text/css; charset=utf-8", pageCSS},
	} {
		s.mux.Handle(a.pattern, s.pageHandler(a.contentType, a.body))
	}
}

func (s *Server) pageHandler(contentType, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			s.writeError(w, r, &apiError{status: http.StatusMethodNotAllowed, msg: "method not allowed; use GET",
				header: http.Header{"Allow": {"GET, HEAD"}}})
			return
		}
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-store")
		// The page never needs another window or origin to reach it.
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		_, _ = w.Write([]byte(body)) // net/http drops the body of a HEAD
	})
}
