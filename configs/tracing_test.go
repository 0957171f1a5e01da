package configs

import (
	"strings"
	"testing"
)

func TestTracingSection(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"no section means no export and every new trace sampled", ``, nil},
		{"a base URL is accepted", `tracing: {otlp_endpoint: "http://collector:4318"}`, nil},
		{"a base URL with a path is accepted", `tracing: {otlp_endpoint: "https://otlp.example.com/otlp/", sample_ratio: 0.25}`, nil},
		{"the endpoint may come from the environment", `tracing: {otlp_endpoint: "${OTLP:-}"}`, nil},
		{"a ratio of 0 follows only senders' sampled flags", `tracing: {sample_ratio: 0}`, nil},
		{"a scheme other than http is refused", `tracing: {otlp_endpoint: "grpc://collector:4317"}`,
			[]string{`t.yaml:1: tracing.otlp_endpoint: invalid URL "grpc://collector:4317"; use the collector's OTLP/HTTP base URL, such as http://collector:4318 (spans go to <base>/v1/traces)`}},
		{"a host without scheme is refused", `tracing: {otlp_endpoint: "collector:4318"}`, []string{`tracing.otlp_endpoint: invalid URL "collector:4318"`}},
		{"the traces path itself is refused", `tracing: {otlp_endpoint: "http://collector:4318/v1/traces"}`,
			[]string{`tracing.otlp_endpoint: URL "http://collector:4318/v1/traces" ends in /v1/traces; write the base URL, /v1/traces is added to it`}},
		{"credentials are refused without being shown", `tracing: {otlp_endpoint: "https://id:tok3n-s3cret@otlp.example.com"}`,
			[]string{`tracing.otlp_endpoint: URL "https://id:***@otlp.example.com" holds credentials, which the exporter does not send; write it without them and pass them in OTEL_EXPORTER_OTLP_HEADERS`}},
		{"a query is refused without being shown", `tracing: {otlp_endpoint: "https://otlp.example.com?api_key=k3y-s3cret"}`,
			[]string{`tracing.otlp_endpoint: URL "https://otlp.example.com?…" has a query or fragment`}},
		{"a ratio above 1 is refused", `tracing: {sample_ratio: 1.5}`, []string{"tracing.sample_ratio: must be from 0 to 1"}},
		{"a negative ratio is refused", `tracing: {sample_ratio: -0.1}`, []string{"tracing.sample_ratio: must be from 0 to 1"}},
		{"a ratio that is no number is refused", `tracing: {sample_ratio: half}`, []string{`tracing.sample_ratio: invalid number "half"; write a number such as 1 or 0.25`}},
		{"an unknown key lists the allowed ones", `tracing: {endpoint: "http://c:4318"}`, []string{"tracing.endpoint: unknown key; allowed: otlp_endpoint, sample_ratio"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, ps := parseDoc(t, tt.doc, nil)
			checkProblems(t, ps, tt.want)
			for _, p := range ps {
				if strings.Contains(p.Msg, "s3cret") {
					t.Errorf("a problem shows the endpoint's secret: %s", p)
				}
			}
			if tt.doc == "" && (cfg.Tracing.OTLPEndpoint != "" || cfg.Tracing.SampleRatio != 1) {
				t.Errorf("defaults: got %+v, want no endpoint and sample_ratio 1", cfg.Tracing)
			}
		})
	}
}

// Tracing is one section: two files setting it is a problem naming both.
func TestTracingSetInOneFileOnly(t *testing.T) {
	_, err := load([]source{
		{"a.yaml", []byte("tracing: {sample_ratio: 0.5}\n")},
		{"b.yaml", []byte("tracing: {otlp_endpoint: \"http://c:4318\"}\n")},
	}, mapLookup(nil))
	if err == nil || !strings.Contains(err.Error(), "b.yaml:1: tracing: also set in a.yaml:1; set tracing in one file only") {
		t.Fatalf("got %v, want the second tracing section refused", err)
	}
}

// The endpoint's credentials are among the secrets Redact masks, so that
// no error quoting it shows them.
func TestTracingEndpointCredentialsAreSecrets(t *testing.T) {
	c := Default()
	c.Tracing.OTLPEndpoint = "https://u:pa55w0rd@otlp.example.com"
	if got := c.Redact("export to https://u:pa55w0rd@otlp.example.com failed"); strings.Contains(got, "pa55w0rd") {
		t.Errorf("Redact left the password: %s", got)
	}
}

// Spans go to otlp_endpoint + /v1/traces, else to the signal's own
// variable as it is, else to OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces; a
// variable that holds no usable URL is an error naming it.
func TestTracesURL(t *testing.T) {
	tests := []struct {
		name     string
		endpoint string
		env      map[string]string
		want     string
		err      string
	}{
		{"nothing set exports nothing", "", nil, "", ""},
		{"the config's base URL", "http://collector:4318", nil, "http://collector:4318/v1/traces", ""},
		{"a trailing slash is not doubled", "https://otlp.example.com/otlp/", nil, "https://otlp.example.com/otlp/v1/traces", ""},
		{"the config wins over the environment", "http://collector:4318", map[string]string{EnvOTLPEndpoint: "http://other:4318"}, "http://collector:4318/v1/traces", ""},
		{"the environment's base URL", "", map[string]string{EnvOTLPEndpoint: "http://collector:4318/"}, "http://collector:4318/v1/traces", ""},
		{"the traces variable is a full URL", "", map[string]string{EnvOTLPEndpoint: "http://a:4318", EnvOTLPTracesEndpoint: "http://b:4318/custom/traces"}, "http://b:4318/custom/traces", ""},
		{"a bad base URL names its variable", "", map[string]string{EnvOTLPEndpoint: "collector:4318"}, "", `OTEL_EXPORTER_OTLP_ENDPOINT: invalid URL "collector:4318"`},
		{"credentials in the variable are refused unshown", "", map[string]string{EnvOTLPTracesEndpoint: "https://u:s3cret-pw@otlp.example.com/v1/traces"}, "",
			`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: URL "https://u:***@otlp.example.com/v1/traces" holds credentials`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Tracing{OTLPEndpoint: tt.endpoint}.TracesURL(func(k string) string { return tt.env[k] })
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("error %v, want one containing %q", err, tt.err)
			case err != nil && strings.Contains(err.Error(), "s3cret"):
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

// The exporter's header values and endpoint credentials are masked.
func TestOTLPSecretsAreMasked(t *testing.T) {
	env := map[string]string{
		"OTEL_EXPORTER_OTLP_HEADERS":        "Authorization=Bearer%20t0ken-in-header,x-api-key=k3y-value",
		"OTEL_EXPORTER_OTLP_TRACES_HEADERS": "x-other=0ther-value",
		EnvOTLPEndpoint:                     "https://user:pa55-word@otlp.example.com",
	}
	secrets := OTLPSecrets(func(k string) string { return env[k] })
	msg := "export failed: 401 for Authorization: Bearer t0ken-in-header (sent Bearer%20t0ken-in-header), x-api-key k3y-value, x-other 0ther-value, user:pa55-word"
	got := MaskSecrets(msg, secrets)
	for _, s := range []string{"t0ken-in-header", "k3y-value", "0ther-value", "pa55-word"} {
		if strings.Contains(got, s) {
			t.Errorf("%q left in %s", s, got)
		}
	}
}
