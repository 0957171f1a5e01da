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
func CheckOTLPEndpoint(raw string) error {
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
	case strings.HasSuffix(strings.TrimRight(u.Path, "/"), OTLPTracesPath):
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
