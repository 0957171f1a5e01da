package admin

import (
	"net/http"
	"net/http/pprof"
	"strings"
)

// debugProfiles are the runtime profiles served under /debug/pprof/.
// cmdline is left out: a command line may carry what the admin API never
// shows.
var debugProfiles = []string{"allocs", "block", "goroutine", "heap", "mutex", "threadcreate"}

// registerDebug serves Go's profiler under /debug/pprof/ behind the admin
// token, so that an operator can see where a running process spends its
// CPU and memory (go tool pprof -http : 'http://ADMIN/debug/pprof/profile?seconds=30',
// with the token in the Authorization header).
func (s *Server) registerDebug() {
	wrap := func(h http.Handler) http.Handler {
		return s.api(http.MethodGet, func(w http.ResponseWriter, r *http.Request) error {
			h.ServeHTTP(w, r)
			return nil
		})
	}
	s.mux.Handle("/debug/pprof/profile", wrap(http.HandlerFunc(pprof.Profile)))
	s.mux.Handle("/debug/pprof/trace", wrap(http.HandlerFunc(pprof.Trace)))
	for _, name := range debugProfiles {
		s.mux.Handle("/debug/pprof/"+name, wrap(pprof.Handler(name)))
	}
	s.mux.Handle("/debug/pprof/", s.api(http.MethodGet, func(w http.ResponseWriter, r *http.Request) error {
		if r.URL.Path != "/debug/pprof/" {
			return &apiError{status: http.StatusNotFound, msg: "no such profile; profiles: " + strings.Join(debugProfiles, ", ") + ", profile, trace"}
		}
		pprof.Index(w, r)
		return nil
	}))
}
