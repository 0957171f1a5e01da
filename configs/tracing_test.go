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
