package admin

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookgate/hookgate/configs"
)

// The profiler is behind the admin token, and serves real profiles (gzip
// protobuf, as go tool pprof reads them) with it; the command line is not
// served, nor is an unknown profile.
func TestProfilesNeedTheTokenAndLeaveOutTheCommandLine(t *testing.T) {
	current := func() *configs.Config { return configs.Default() }
	a, err := New(Options{Listen: "127.0.0.1:0", Token: testToken, Gatherer: prometheus.NewRegistry(), Current: current})
	if err != nil {
		t.Fatal(err)
	}
	base := httptestServer(t, a)
	auth := "Authorization: Bearer " + testToken
	for _, tc := range []apiCase{
		{"heap without a token is 401", "GET", "/debug/pprof/heap", nil, 401, "missing admin token; send Authorization: Bearer <admin.token>"},
		{"cpu without a token is 401", "GET", "/debug/pprof/profile?seconds=1", nil, 401, "missing admin token; send Authorization: Bearer <admin.token>"},
		{"the index without a token is 401", "GET", "/debug/pprof/", nil, 401, "missing admin token; send Authorization: Bearer <admin.token>"},
		{"the command line is not served", "GET", "/debug/pprof/cmdline", []string{auth}, 404, "no such profile; profiles: allocs, block, goroutine, heap, mutex, threadcreate, profile, trace"},
		{"a profile is read-only", "POST", "/debug/pprof/heap", []string{auth}, 405, "method not allowed; use GET"},
		{"the index with the token", "GET", "/debug/pprof/", []string{auth}, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, base) })
	}
	for _, path := range []string{"/debug/pprof/heap", "/debug/pprof/goroutine", "/debug/pprof/profile?seconds=1"} {
		r := do(t, "GET", base+path, "", auth)
		if r.Status != 200 {
			t.Fatalf("%s: status %d: %s", path, r.Status, r.Body)
		}
		zr, err := gzip.NewReader(bytes.NewReader([]byte(r.Body)))
		if err != nil {
			t.Fatalf("%s: not a gzip profile: %v", path, err)
		}
		if raw, err := io.ReadAll(zr); err != nil || len(raw) == 0 {
			t.Fatalf("%s: an empty or broken profile (%d bytes): %v", path, len(raw), err)
		}
	}
}
