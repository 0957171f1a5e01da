package validators

import (
	"encoding/base64"
	"errors"
	"net/http"
	"testing"

	"github.com/hookgate/hookgate/configs"
)

func TestHeaderSecret(t *testing.T) {
	plain := configs.PreProcessor{HeaderSecret: &configs.HeaderSecret{Header: "X-Alumio-Auth", Secret: "erp-secret", Secrets: []string{"erp-next"}}}
	bearer := configs.PreProcessor{HeaderSecret: &configs.HeaderSecret{Header: "Authorization", Prefix: "Bearer ", Secret: "tok"}}
	tests := []struct {
		name   string
		pp     configs.PreProcessor
		header http.Header
		want   string
	}{
		{"the right secret passes", plain, http.Header{"X-Alumio-Auth": {"erp-secret"}}, ""},
		{"the rotated secret passes", plain, http.Header{"X-Alumio-Auth": {"erp-next"}}, ""},
		{"a wrong secret is rejected", plain, http.Header{"X-Alumio-Auth": {"erp-secre"}}, msgWrongToken},
		{"a longer value is rejected", plain, http.Header{"X-Alumio-Auth": {"erp-secretX"}}, msgWrongToken},
		{"a missing header is rejected", plain, http.Header{}, msgWrongToken},
		{"the header name is case-insensitive on the wire", plain, http.Header{"X-Alumio-Auth": {"erp-secret"}}, ""},
		{"prefix plus secret passes", bearer, http.Header{"Authorization": {"Bearer tok"}}, ""},
		{"the secret without its prefix is rejected", bearer, http.Header{"Authorization": {"tok"}}, msgWrongToken},
		{"another scheme is rejected", bearer, http.Header{"Authorization": {"Basic tok"}}, msgWrongToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustBuild(t, tt.pp)
			wantResult(t, validate(t, c, newRequest(t, "", tt.header, BytesBody("{}"))), tt.want, http.StatusUnauthorized)
		})
	}
}

func TestBasicAuth(t *testing.T) {
	pp := configs.PreProcessor{BasicAuth: &configs.BasicAuth{Username: "erp", Password: "old", Passwords: []string{"new"}}}
	basic := func(s string) http.Header {
		return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(s))}}
	}
	tests := []struct {
		name   string
		header http.Header
		want   string
	}{
		{"the right credentials pass", basic("erp:old"), ""},
		{"the rotated password passes", basic("erp:new"), ""},
		{"the scheme is case-insensitive", http.Header{"Authorization": {"basic " + base64.StdEncoding.EncodeToString([]byte("erp:new"))}}, ""},
		{"a wrong password is rejected", basic("erp:older"), msgBadCredentials},
		{"a wrong user is rejected", basic("erq:old"), msgBadCredentials},
		{"no colon is rejected", basic("erpold"), msgBadCredentials},
		{"not base64 is rejected", http.Header{"Authorization": {"Basic !!!"}}, msgBadCredentials},
		{"a bearer token is rejected", http.Header{"Authorization": {"Bearer erp:old"}}, msgBadCredentials},
		{"no Authorization is rejected", http.Header{}, msgBadCredentials},
	}
	c := mustBuild(t, pp)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validate(t, c, newRequest(t, "", tt.header, BytesBody("{}")))
			wantResult(t, err, tt.want, http.StatusUnauthorized)
			if tt.want != "" {
				var rej *Rejection
				errors.As(err, &rej)
				if got := rej.Header.Get("WWW-Authenticate"); got != `Basic realm="hookgate"` {
					t.Fatalf("WWW-Authenticate = %q", got)
				}
			}
		})
	}
}

func TestGitLabToken(t *testing.T) {
	c := mustBuild(t, hmacPP(configs.HMAC{Preset: "gitlab", Secret: "gl-token"}))
	tests := []struct {
		name   string
		header http.Header
		want   string
	}{
		{"the token passes", http.Header{"X-Gitlab-Token": {"gl-token"}}, ""},
		{"a wrong token is an invalid signature", http.Header{"X-Gitlab-Token": {"gl-tokem"}}, "invalid signature"},
		{"no token names the header", http.Header{}, "missing signature header X-Gitlab-Token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantResult(t, validate(t, c, newRequest(t, "", tt.header, BytesBody("{}"))), tt.want, http.StatusUnauthorized)
		})
	}
}

// The first failing validator decides, in configured order.
func TestChainFirstFailureWins(t *testing.T) {
	c := mustBuild(t,
		configs.PreProcessor{IPAllowlist: &configs.IPAllowlist{CIDRs: []string{"198.51.100.0/24"}}},
		configs.PreProcessor{HeaderSecret: &configs.HeaderSecret{Header: "X-Token", Secret: "t"}},
	)
	r := newRequest(t, "", http.Header{}, BytesBody("{}"))
	wantResult(t, validate(t, c, r), msgAddressRejected, http.StatusForbidden)
	r.RemoteAddr = "198.51.100.4:5555"
	wantResult(t, validate(t, c, r), msgWrongToken, http.StatusUnauthorized)
	r.Header.Set("X-Token", "t")
	wantResult(t, validate(t, c, r), "", 0)
	if err := (Chain{}).Validate(t.Context(), r); err != nil {
		t.Fatalf("an empty chain must pass, got %v", err)
	}
}
