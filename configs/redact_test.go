package configs

import (
	"strings"
	"testing"
)

func TestRedactURLsHidesSecrets(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain url unchanged", "nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"password replaced", "nats://app:s3cret@nats.example.com:4222", "nats://app:***@nats.example.com:4222"},
		{"token user replaced", "nats://s3cret@nats.example.com:4222", "nats://***@nats.example.com:4222"},
		{"each of several urls", "nats://a:x@h1:4222, tls://t0k@h2:4222", "nats://a:***@h1:4222,tls://***@h2:4222"},
		{"unparsable url keeps only what follows @", "nats://a:b@h:%zz", "nats://***@h:%zz"},
		{"password with a slash is still hidden", "nats://u:123/cret@host:4222", "nats://***@host:4222"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedactURLs(tt.in); got != tt.want {
				t.Errorf("RedactURLs(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzRedactURLs checks that a password written into a URL never survives
// redaction, whatever the user, password and host look like.
func FuzzRedactURLs(f *testing.F) {
	f.Add("app", "s3cret", "nats.example.com:4222")
	f.Add("", "tok3n", "127.0.0.1:4222")
	f.Add("u", "12/34", "host:4222")
	f.Add("u", "p@ss:word", "h1:4222,nats://h2:4222")
	f.Fuzz(func(t *testing.T, user, secret, host string) {
		raw := "nats://" + user + ":" + secret + "@" + host
		// A secret that also appears in the parts meant to stay visible
		// (scheme, user, @host) cannot be judged.
		if len(secret) < 4 || strings.Contains("nats://"+user+":***@"+host, secret) || strings.ContainsAny(secret, ",*") {
			t.Skip()
		}
		if got := RedactURLs(raw); strings.Contains(got, secret) {
			t.Errorf("RedactURLs(%q) = %q shows the password", raw, got)
		}
		if got := redactURL(raw); strings.Contains(got, secret) {
			t.Errorf("redactURL(%q) = %q shows the password", raw, got)
		}
	})
}

func TestURLSecrets(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"https://erp.example.com/x", nil},
		{"https://user:pa%40ss@erp.example.com/", []string{"pa%40ss", "pa@ss"}},
		{"nats://t0ken@h:4222", []string{"t0ken"}},
		{"https://someone@erp.example.com/", nil}, // a user name, not a secret
		{"https://u:p/w#x@h/", []string{"p/w#x"}},
		{"https://h/path?mail=a@b", nil},
	}
	for _, tt := range tests {
		if got := urlSecrets(tt.in); strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("urlSecrets(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestSecretHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"X-Api-Key": true, "Authorization": true, "X-Auth-Token": true, "x-client-secret": true,
		"X-Password": true, "X-Signature": true, "PRIVATE-TOKEN": true,
		"X-Api-Version": false, "Content-Language": false, "X-Request-Id": false,
	} {
		if got := SecretHeader(name); got != want {
			t.Errorf("SecretHeader(%q) = %v; want %v", name, got, want)
		}
	}
}

func TestMasker(t *testing.T) {
	long := strings.Repeat("L0ng-", 12) // 60 bytes
	m := newMasker([]string{"s", "hunter2", `qu"o\te`, long, "hunter2-and-more"})
	tests := []struct{ in, want string }{
		{`unknown value "hunter2"`, `unknown value "***"`},
		{`got "hunter2-and-more"`, `got "***"`}, // the longer secret whole, not "***-and-more"
		{`quoted "qu\"o\\te"`, `quoted "***"`},
		{`clipped "` + clip(long) + `"`, `clipped "***…"`},
		{"must be a string", "must be a string"},                   // "s" is too short to mask everywhere
		{`unknown value "s"; use …`, `unknown value "***"; use …`}, // but not as a whole quoted value
	}
	for _, tt := range tests {
		if got := m.mask(tt.in); got != tt.want {
			t.Errorf("mask(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// TestProblemsNeverShowSecrets breaks a configuration around each kind of
// secret: the problem must name the key and say what is wrong, and no
// problem may carry the secret (SPEC §11).
func TestProblemsNeverShowSecrets(t *testing.T) {
	const pre = "webhooks[0].pre_processors[0]"
	long := "L0ngSecret-" + strings.Repeat("x", 50)
	env := map[string]string{"SHARED": "shared-Secret-42", "LONG": long, "QUOTED": `q"uoted\Secret-7`}
	tests := []struct {
		name, doc, secret string
		want              []string
	}{
		{"header_secret secrets given as one value", preDoc("header_secret: {header: X-A, secrets: hdrSecret-1}"), "hdrSecret-1",
			[]string{pre + ".header_secret.secrets: must be a list; got a single value (not shown: it is a secret)"}},
		{"basic_auth passwords given as one value", preDoc("basic_auth: {username: u, passwords: baSecret-2}"), "baSecret-2",
			[]string{pre + ".basic_auth.passwords: must be a list; got a single value"}},
		{"hmac secrets given as one value", preDoc("hmac: {preset: github, secrets: ghSecret-3}"), "ghSecret-3",
			[]string{pre + ".hmac.secrets: must be a list; got a single value"}},
		{"outgoing signing secrets given as one value", outDoc(`url: "https://e.example.com", signing: {preset: github, secrets: signSecret-4}`, ""), "signSecret-4",
			[]string{"outgoing[0].signing.secrets: must be a list"}},
		{"an unterminated ${ in a password", `admin: {token: "adm-${tailSecret-5"}`, "tailSecret-5",
			[]string{"admin.token: unterminated ${ in this secret (not shown)"}},
		{"an invalid variable name in a token", `nats: {url: "nats://h:4222", token: "${natsTok Secret-6}"}`, "Secret-6",
			[]string{"nats.token: invalid variable name in a ${...} of this secret (not shown)"}},
		{"an unset variable in a secret names the variable", `nats: {embedded: {auth: {token: "emb-${UNSET_TOKEN}"}}}`, "emb-",
			[]string{"nats.embedded.auth.token: environment variable UNSET_TOKEN is not set"}},
		{"the password of an invalid nats.url", `nats: {url: "http://hookgate:natsPw-Secret-7@nats.example.com:4222"}`, "natsPw-Secret-7",
			[]string{`nats.url: invalid server URL "http://hookgate:***@nats.example.com:422…"`}},
		{"the token of an invalid nats.url", `nats: {url: "nats://a:4222,http://natsTok-Secret-8@b:4222"}`, "natsTok-Secret-8",
			[]string{`nats.url: invalid server URL "http://***@b:4222"`}},
		{"half a password holding a comma", `nats: {url: "nats://u:Comma1,Secret-9@h:4222"}`, "Comma1",
			[]string{"nats.url: invalid server URL number 1"}},
		{"the password of an invalid outgoing url", outDoc(`url: "ftp://u:outPw-Secret-10@erp.example.com/"`, ""), "outPw-Secret-10",
			[]string{`outgoing[0].url: invalid URL "ftp://u:***@erp.example.com/"`}},
		{"the password of an invalid token_url", outDoc(`url: "https://erp.example.com/", auth: p`,
			`{name: p, type: oauth2_client_credentials, client_id: i, client_secret: cs, token_url: "ftp://u:tokPw-Secret-11@login.example.com/", allowed_domains: [erp.example.com]}`), "tokPw-Secret-11",
			[]string{`auth_profiles[0].token_url: invalid URL "ftp://u:***@login.example.com/"`}},
		{"an outgoing header named like a credential", outDoc(`url: "https://e.example.com", headers: {X-Api-Key: "k-${apiKey Secret-12}"}`, ""), "Secret-12",
			[]string{"outgoing[0].headers.X-Api-Key: invalid variable name in a ${...} of this secret"}},
		{"auth profile values", outDoc(`url: "https://e.example.com"`,
			`{name: h, type: header, header: X-Key, value: "${hv Secret-13}", allowed_domains: [e.example.com]}`), "Secret-13",
			[]string{"auth_profiles[0].value: invalid variable name in a ${...} of this secret"}},
		{"a client secret given as one value where a list belongs is still a string", outDoc(`url: "https://e.example.com"`,
			`{name: o, type: oauth2_client_credentials, client_id: i, client_secret: [cs-Secret-14], token_url: "https://e.example.com/t", allowed_domains: [e.example.com]}`), "cs-Secret-14",
			[]string{"auth_profiles[0].client_secret: must be a string; got a list"}},
		{"a map given for a password", preDoc("basic_auth: {username: u, password: {Map-Secret-16: x}}"), "Map-Secret-16",
			[]string{pre + ".basic_auth.password: must be a string; got a map"}},
		{"a secret reused in a key that quotes its value", "admin: {token: \"${SHARED}\"}\nlog: {level: \"${SHARED}\"}\n", "shared-Secret-42",
			[]string{`t.yaml:2: log.level: unknown value "***"; use debug, info, warn or error`}},
		{"a long secret reused where its value is clipped", "admin: {token: \"${LONG}\"}\nlog: {format: \"${LONG}\"}\n", long[:clipLen],
			[]string{`log.format: unknown value "***…"`}},
		{"a secret with quotes reused where %q escapes it", "admin: {token: '${QUOTED}'}\nlog: {level: '${QUOTED}'}\n", `uoted\\Secret-7`,
			[]string{`log.level: unknown value "***"`}},
		{"a secret key's value reused in a key of another file section", "nats: {embedded: {auth: {token: emb-Secret-15}}}\nincoming: [{name: in, subject: emb-Secret-15}]\n", "emb-Secret-15",
			[]string{`incoming[0].subject: invalid subject "***"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, ps := parseDoc(t, tt.doc, env)
			checkProblems(t, ps, tt.want)
			if strings.Contains(ps.Error(), tt.secret) {
				t.Errorf("a problem shows the secret %q:\n%s", tt.secret, ps.Error())
			}
		})
	}
}

func TestConfigRedact(t *testing.T) {
	cfg, ps := parseDoc(t, secretsDoc, nil)
	checkProblems(t, ps, nil)
	got := cfg.Redact(`webhooks[0]: secret "hs-2" and admin-tok, client secret cs-1; url-tok`)
	if want := `webhooks[0]: secret "***" and ***, client secret ***; ***`; got != want {
		t.Errorf("Redact = %q; want %q (secrets of 4 characters or more)", got, want)
	}
}
