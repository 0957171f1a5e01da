package router

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
)

// SPEC §6: no redirect is ever followed. A 3xx is a failed attempt,
// retried like a 5xx, that names the status and where it pointed; the
// redirect's target never hears of the task, whatever the method, the
// status or the credentials.
func TestRedirectIsAFailedAttemptNeverFollowed(t *testing.T) {
	elsewhere := newReceiver(t, nil)
	away, _ := url.Parse(elsewhere.URL)
	tests := []struct {
		name     string
		status   int
		location string // "" sends none; "{away}" is the other receiver
		profile  *configs.AuthProfile
		want     string // the error; {away} and {self} are host names, without the port
	}{
		{name: "302 to another host", status: 302, location: "{away}/moved", want: "redirect 302 to {away} not followed"},
		{name: "301 with basic auth to another host name", status: 301, location: "http://localhost:" + away.Port() + "/x",
			profile: &configs.AuthProfile{Type: "basic", Username: "u", Password: "secret-pw"}, want: "redirect 301 to localhost not followed"},
		{name: "303 relative to the same host", status: 303, location: "/elsewhere", want: "redirect 303 to {self} not followed"},
		{name: "307 keeping the method, with a header profile", status: 307, location: "{away}",
			profile: &configs.AuthProfile{Type: "header", Header: "X-Api-Key", Value: "secret-key"}, want: "redirect 307 to {away} not followed"},
		{name: "308 protocol-relative", status: 308, location: "//" + away.Host + "/p", want: "redirect 308 to {away} not followed"},
		{name: "302 without Location", status: 302, want: "redirect 302 without a Location not followed"},
		{name: "302 to a Location that is no URL", status: 302, location: "http://[::1", want: "redirect 302 to an unreadable Location not followed"},
		{name: "300 multiple choices", status: 300, location: "{away}", want: "redirect 300 to {away} not followed"},
		{name: "302 to an IPv6 address and port", status: 302, location: "http://[::1]:8443/x", want: "redirect 302 to ::1 not followed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := elsewhere.count()
			origin := newReceiver(t, func(_ int, _ arrival, w http.ResponseWriter) {
				if tt.location != "" {
					w.Header().Set("Location", strings.ReplaceAll(tt.location, "{away}", elsewhere.URL))
				}
				w.WriteHeader(tt.status)
			})
			self, _ := url.Parse(origin.URL)
			var p *configs.AuthProfile
			if tt.profile != nil {
				cp := *tt.profile
				cp.Name, cp.AllowedDomains = "p", []string{"127.0.0.1", "localhost"}
				p = &cp
			}
			out := testOutgoing("o", origin.URL+"/in")
			out.Method = http.MethodPut
			derr := sendOnce(t, out, p, `{"a":1}`)
			want := strings.NewReplacer("{away}", away.Hostname(), "{self}", self.Hostname()).Replace(tt.want)
			if derr == nil || !derr.retryable || derr.status != tt.status || derr.Error() != want {
				t.Fatalf("send = %#v; want a retryable failure, status %d, %q", derr, tt.status, want)
			}
			got := origin.wait(t, 1)
			if len(got) != 1 || got[0].body != `{"a":1}` {
				t.Errorf("the destination got %v, want one request with the body", got)
			}
			if n := elsewhere.count() - before; n != 0 {
				t.Errorf("the redirect's target got %d requests, want none", n)
			}
		})
	}
}

func TestRedirectHonoursRetryAfter(t *testing.T) {
	origin := newReceiver(t, func(_ int, _ arrival, w http.ResponseWriter) {
		w.Header().Set("Location", "/later")
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusFound)
	})
	derr := sendOnce(t, testOutgoing("o", origin.URL), nil, `{}`)
	if derr == nil || !derr.hasRetry || derr.retryAfter != 7*time.Second {
		t.Fatalf("send = %#v; want Retry-After 7s kept, as for a 5xx", derr)
	}
}

// Through NATS: every attempt is a POST with the body, none is counted as
// delivered, and after max_attempts the task is a dead letter.
func TestRedirectedTaskIsRetriedThenDeadLettered(t *testing.T) {
	js := startJS(t)
	target := newReceiver(t, nil)
	origin := newReceiver(t, func(_ int, _ arrival, w http.ResponseWriter) {
		w.Header().Set("Location", target.URL)
		w.WriteHeader(http.StatusFound)
	})
	out := testOutgoing("o", origin.URL)
	out.Retry.MaxAttempts = 3
	startRouter(t, testConfig(configs.Route{}, out), js)
	publishTask(t, js, "tasks.orders", "req-orders-0", `{"n":1}`)
	dl := nextDeadLetter(t, js, bus.DLQSubject("r", "o"))
	settled(t, js, "r", "o")
	target.mu.Lock()
	defer target.mu.Unlock()
	if e, want := dl.Headers().Get(bus.HeaderError), "redirect 302 to 127.0.0.1 not followed"; e != want {
		t.Errorf("%s %q, want %q", bus.HeaderError, e, want)
	}
	if a, s := dl.Headers().Get(bus.HeaderAttempts), dl.Headers().Get(bus.HeaderStatus); a != "3" || s != "302" {
		t.Errorf("attempts %s, status %s; want 3 and 302", a, s)
	}
	for i, a := range origin.wait(t, 3) {
		if a.body != `{"n":1}` {
			t.Errorf("attempt %d body %q", i+1, a.body)
		}
	}
	if len(target.arrivals) != 0 {
		t.Errorf("the redirect's target got %d requests", len(target.arrivals))
	}
}
