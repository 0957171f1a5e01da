package router

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hookgate/hookgate/configs"
)

// tokenServer is an OAuth2 token endpoint issuing tok-1, tok-2, … to one client.
type tokenServer struct {
	*httptest.Server
	issued atomic.Int64
}

func newTokenServer(t *testing.T, clientID, secret string) *tokenServer {
	ts := &tokenServer{}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, sec, ok := r.BasicAuth()
		if !ok {
			_ = r.ParseForm()
			id, sec = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		if r.PostFormValue("grant_type") != "client_credentials" || id != clientID || sec != secret {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"invalid_client"}`)
			return
		}
		if got := r.PostFormValue("scope"); got != "orders.write orders.read" {
			t.Errorf("token request scope %q", got)
		}
		n := ts.issued.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"tok-%d","token_type":"Bearer","expires_in":3600}`, n)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func TestOAuth2TokenCachedAndRefetchedAfter401(t *testing.T) {
	js := startJS(t)
	ts := newTokenServer(t, "hookgate", "s3cret")
	var accepted atomic.Value
	accepted.Store("Bearer tok-1")
	rc := newReceiver(t, func(_ int, a arrival, w http.ResponseWriter) {
		if a.header.Get("Authorization") != accepted.Load().(string) {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	out := testOutgoing("erp", rc.URL)
	out.Auth = "erp-oauth"
	out.Concurrency = 8
	cfg := testConfig(configs.Route{}, out)
	cfg.AuthProfiles = []configs.AuthProfile{{
		Name: "erp-oauth", Type: "oauth2_client_credentials", ClientID: "hookgate", ClientSecret: "s3cret",
		Scope: "orders.write orders.read", TokenURL: ts.URL + "/token", AllowedDomains: []string{"127.0.0.1"},
	}}
	startRouter(t, cfg, js)

	for i := range 50 {
		publishTask(t, js, "tasks.orders", fmt.Sprintf("req-orders-%d", i), `{}`)
	}
	got := rc.wait(t, 50)
	settled(t, js, "r", "erp")
	if n := ts.issued.Load(); n != 1 {
		t.Errorf("%d tokens fetched for 50 deliveries, want 1", n)
	}
	for _, a := range got {
		if a.header.Get("Authorization") != "Bearer tok-1" {
			t.Fatalf("Authorization %q", a.header.Get("Authorization"))
		}
	}

	// The destination revokes tok-1: the 401 makes the router fetch tok-2
	// and repeat the request at once.
	accepted.Store("Bearer tok-2")
	publishTask(t, js, "tasks.orders", "req-orders-50", `{}`)
	got = rc.wait(t, 52)
	settled(t, js, "r", "erp")
	if n := ts.issued.Load(); n != 2 {
		t.Errorf("%d tokens fetched after a 401, want 2", n)
	}
	if a := got[51]; a.header.Get("Authorization") != "Bearer tok-2" || a.header.Get("Idempotency-Key") != "req-orders-50" {
		t.Errorf("request after the 401 carried %q for %q", a.header.Get("Authorization"), a.header.Get("Idempotency-Key"))
	}
	if n := rc.count(); n != 52 {
		t.Errorf("%d requests, want 52", n)
	}
}

// sendOnce makes one attempt to out with profile p, as the router would.
func sendOnce(t *testing.T, out configs.Outgoing, p *configs.AuthProfile, body string) *deliveryError {
	t.Helper()
	var creds *credentials
	if p != nil {
		var err error
		if creds, err = newCredentials(*p, out.WithDefaults()); err != nil {
			t.Fatalf("credentials: %v", err)
		}
	}
	d, err := newDestination(out.WithDefaults(), creds, "test", 2)
	if err != nil {
		t.Fatalf("destination: %v", err)
	}
	t.Cleanup(d.transport.CloseIdleConnections)
	return d.send(context.Background(), context.Background(), []byte(body), "application/json", "task-1")
}

func TestAuthProfiles(t *testing.T) {
	tests := []struct {
		name    string
		profile configs.AuthProfile
		header  string
		want    string
	}{
		{"basic", configs.AuthProfile{Type: "basic", Username: "hookgate", Password: "pa:ss"}, "Authorization",
			"Basic " + base64.StdEncoding.EncodeToString([]byte("hookgate:pa:ss"))},
		{"bearer", configs.AuthProfile{Type: "bearer", Token: "t0k"}, "Authorization", "Bearer t0k"},
		{"header (API key)", configs.AuthProfile{Type: "header", Header: "X-Api-Key", Value: "k3y"}, "X-Api-Key", "k3y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, nil)
			p := tt.profile
			p.Name, p.AllowedDomains = "p", []string{"127.0.0.1"}
			out := testOutgoing("o", rc.URL)
			if derr := sendOnce(t, out, &p, `{}`); derr != nil {
				t.Fatalf("send: %v", derr)
			}
			if got := rc.wait(t, 1)[0].header.Get(tt.header); got != tt.want {
				t.Errorf("%s = %q, want %q", tt.header, got, tt.want)
			}
		})
	}
}

func TestNewRefusesBadConfigs(t *testing.T) {
	js := startJS(t)
	good := testOutgoing("erp", "https://erp.example.com/api")
	tests := []struct {
		name   string
		mutate func(*configs.Config)
		want   string
	}{
		{"unknown outgoing", func(c *configs.Config) { c.Routes[0].Outgoing = []string{"nope"} }, `unknown outgoing "nope"`},
		{"unknown incoming", func(c *configs.Config) { c.Routes[0].Incoming = "nope" }, `unknown incoming "nope"`},
		{"unknown auth profile", func(c *configs.Config) { c.Outgoing[0].Auth = "nope" }, `unknown auth profile "nope"`},
		{"url host outside allowed_domains", func(c *configs.Config) {
			c.Outgoing[0].Auth = "p"
			c.AuthProfiles = []configs.AuthProfile{{Name: "p", Type: "bearer", Token: "secret-token", AllowedDomains: []string{"*.erp.example.com"}}}
		}, `host "erp.example.com" is outside allowed_domains of auth profile "p"`},
		{"a bad filter regexp", func(c *configs.Config) { c.Routes[0].Filter = []configs.Condition{{Path: "a", Matches: "(["}} }, "filter[0].matches"},
		{"an unknown format", func(c *configs.Config) { c.Outgoing[0].Format = "yaml" }, `unknown format "yaml"`},
		{"a relative url", func(c *configs.Config) { c.Outgoing[0].URL = "/api?key=secret-q" }, "not an absolute http or https URL"},
		{"a signing preset that cannot sign", func(c *configs.Config) { c.Outgoing[0].Signing = &configs.HMAC{Preset: "twilio", Secret: "secret-s"} }, "signing"},
		{"the same outgoing twice", func(c *configs.Config) { c.Routes[0].Outgoing = []string{"erp", "erp"} }, "named twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(configs.Route{}, good)
			tt.mutate(cfg)
			_, err := New(cfg, js, nil, "test")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New error %v; want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error shows a secret: %v", err)
			}
		})
	}
	cfg := testConfig(configs.Route{Disabled: true, Outgoing: []string{"nope"}}, good)
	if r, err := New(cfg, js, nil, "test"); err != nil || len(r.pairs) != 0 {
		t.Errorf("a disabled route: %v, %d pairs; want no error and no consumer", err, len(r.pairs))
	}
}

func TestNewErrorsNameTheFileAndLine(t *testing.T) {
	js := startJS(t)
	cfg := testConfig(configs.Route{Outgoing: []string{"nope"}, Pos: configs.Pos{File: "configs/erp.yaml", Line: 14}}, testOutgoing("erp", "https://erp.example.com/"))
	_, err := New(cfg, js, nil, "test")
	if want := `configs/erp.yaml:14: route "r": unknown outgoing "nope"`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v; want it to start with %q", err, want)
	}
}
