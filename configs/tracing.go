package configs

import (
	"fmt"
	"math"
	"net/url"
	"strings"
)

// OTLPTracesPath is what an OTLP/HTTP base URL is followed by for traces
// (SPEC §12, as OTEL_EXPORTER_OTLP_ENDPOINT is read).
const OTLPTracesPath = "/v1/traces"

func (v *validator) tracing(r ref) {
	t := v.cfg.Tracing
	if err := CheckOTLPEndpoint(t.OTLPEndpoint); err != nil {
		v.errorf(r, ".otlp_endpoint", "%v", err)
	}
	if math.IsNaN(t.SampleRatio) || t.SampleRatio < 0 || t.SampleRatio > 1 {
		v.errorf(r, ".sample_ratio", "must be from 0 to 1; 1 records every new trace, 0.1 one in ten, 0 only those the sender marked sampled")
	}
}

// CheckOTLPEndpoint checks an OTLP/HTTP base URL, tracing.otlp_endpoint or
// OTEL_EXPORTER_OTLP_ENDPOINT; "" is valid (no export). The exporter sends
// neither user information nor a query, so either would be dropped in
// silence and the collector would refuse every export: both are refused
// here instead. The error names the URL without its credentials or query.
func CheckOTLPEndpoint(raw string) error { return checkOTLPURL(raw, true) }

// checkOTLPURL checks a base URL (base) or a full traces URL.
func checkOTLPURL(raw string, base bool) error {
	if raw == "" {
		return nil
	}
	shown := fmt.Sprintf("%q", clip(RedactEndpoint(raw)))
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "":
		return fmt.Errorf("invalid URL %s; use the collector's OTLP/HTTP base URL, such as http://collector:4318 (spans go to <base>%s)", shown, OTLPTracesPath)
	case u.User != nil:
		return fmt.Errorf("URL %s holds credentials, which the exporter does not send; write it without them and pass them in OTEL_EXPORTER_OTLP_HEADERS (Authorization=Basic …)", shown)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return fmt.Errorf("URL %s has a query or fragment, which the exporter does not send; write the base URL alone and pass keys in OTEL_EXPORTER_OTLP_HEADERS", shown)
	case base && strings.HasSuffix(strings.TrimRight(u.Path, "/"), OTLPTracesPath):
		return fmt.Errorf("URL %s ends in %s; write the base URL, %s is added to it", shown, OTLPTracesPath, OTLPTracesPath)
	}
	return nil
}

// RedactEndpoint is an OTLP endpoint as it may be shown: without user
// information (RedactURLs) and with any query replaced by "…".
func RedactEndpoint(raw string) string {
	s := RedactURLs(raw)
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i+1] + "…"
	}
	return s
}

// The OTLP environment variables hookgate reads itself; the exporter reads
// the other OTEL_EXPORTER_OTLP_* ones (headers, timeout, compression, TLS).
const (
	EnvOTLPEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvOTLPTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	envOTLPHeaders        = "OTEL_EXPORTER_OTLP_HEADERS"
	envOTLPTracesHeaders  = "OTEL_EXPORTER_OTLP_TRACES_HEADERS"
)

// TracesURL is where spans are exported: otlp_endpoint + /v1/traces, else
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is (OpenTelemetry's rule: the
// signal's own variable is a full URL), else OTEL_EXPORTER_OTLP_ENDPOINT +
// /v1/traces; "" when none is set, and then nothing is exported. A
// variable holding no usable URL is an error naming it.
func (t Tracing) TracesURL(getenv func(string) string) (string, error) {
	if t.OTLPEndpoint != "" {
		return strings.TrimRight(t.OTLPEndpoint, "/") + OTLPTracesPath, nil
	}
	if raw := getenv(EnvOTLPTracesEndpoint); raw != "" {
		if err := checkOTLPURL(raw, false); err != nil {
			return "", fmt.Errorf("%s: %w", EnvOTLPTracesEndpoint, err)
		}
		return raw, nil
	}
	if raw := getenv(EnvOTLPEndpoint); raw != "" {
		if err := CheckOTLPEndpoint(raw); err != nil {
			return "", fmt.Errorf("%s: %w", EnvOTLPEndpoint, err)
		}
		return strings.TrimRight(raw, "/") + OTLPTracesPath, nil
	}
	return "", nil
}

// OTLPSecrets are the secrets of the exporter's environment: the values of
// OTEL_EXPORTER_OTLP_HEADERS and OTEL_EXPORTER_OTLP_TRACES_HEADERS
// (key=value pairs, values percent-encoded), as written and decoded, and
// any credentials in the endpoint variables. They are masked like
// Secrets in what the exporter's errors say.
func OTLPSecrets(getenv func(string) string) []string {
	var out []string
	for _, name := range []string{envOTLPHeaders, envOTLPTracesHeaders} {
		for _, pair := range strings.Split(getenv(name), ",") {
			_, v, ok := strings.Cut(pair, "=")
			if v = strings.TrimSpace(v); !ok || v == "" {
				continue
			}
			out = append(out, v)
			if d, err := url.PathUnescape(v); err == nil && d != v {
				out = append(out, d)
			}
			// "Bearer tok" is shown as "Bearer ***" when the whole value
			// is not found: the token alone is a secret too.
			if _, tok, ok := strings.Cut(v, " "); ok && tok != "" {
				out = append(out, tok)
			}
		}
	}
	for _, name := range []string{EnvOTLPEndpoint, EnvOTLPTracesEndpoint} {
		out = append(out, urlSecrets(getenv(name))...)
	}
	return out
}

// MaskSecrets replaces each of secrets in s with ***, as Config.Redact
// does with Secrets.
func MaskSecrets(s string, secrets []string) string { return newMasker(secrets).mask(s) }
