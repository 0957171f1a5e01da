package router

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/validators"
)

// deliveryError is the outcome of a failed attempt: what the dead letter
// records and whether another attempt may succeed.
type deliveryError struct {
	status     int           // last HTTP status, 0 when none came
	retryable  bool          // network error, timeout, 408, 429, 5xx
	retryAfter time.Duration // from Retry-After; valid when hasRetryAfter
	hasRetry   bool
	err        error
}

func (e *deliveryError) Error() string { return e.err.Error() }
func (e *deliveryError) Unwrap() error { return e.err }

// errStopping marks an attempt abandoned because the Router is stopping; it
// is no failure of the destination, the task is handed back at once.
var errStopping = errors.New("router stopping")

// destination is one outgoing configuration, shared by every route that
// names it: its HTTP client (with the SSRF guard), rate limiter and auth.
type destination struct {
	cfg       configs.Outgoing
	host      string
	transport *http.Transport
	// rt sends the requests: the transport itself, never an http.Client,
	// whose redirect handling is then not in the path at all (SPEC §6).
	rt        http.RoundTripper
	limiter   *rate.Limiter // nil = unlimited
	creds     *credentials  // nil = no auth profile
	userAgent string
	redact    *redactor // masks what it sends in what is kept of answers
}

// newDestination builds an outgoing configuration; idle is how many idle
// connections to keep to its host (the sum of its pairs' concurrency).
func newDestination(o configs.Outgoing, creds *credentials, version string, idle int) (*destination, error) {
	u, err := parseAbsolute(o.URL)
	if err != nil {
		return nil, fmt.Errorf("outgoing %q: url %q is not an absolute http or https URL", o.Name, redactURL(o.URL))
	}
	if creds != nil && !creds.allows(u.Hostname()) {
		return nil, fmt.Errorf("outgoing %q: host %q is outside allowed_domains of auth profile %q; add it there or use another profile",
			o.Name, u.Hostname(), creds.profile.Name)
	}
	switch o.Format {
	case "json":
	case "xml":
		if !xmlName(o.RootElement) {
			return nil, fmt.Errorf("outgoing %q: root_element %q is not an XML name the encoder writes; use letters, digits, _ - . and at most one colon", o.Name, o.RootElement)
		}
	default:
		return nil, fmt.Errorf("outgoing %q: unknown format %q; use json or xml", o.Name, o.Format)
	}
	if o.Signing != nil {
		// Sign a probe now so that a preset that cannot sign (twilio) is a
		// config error rather than a dead letter for every task.
		if err := validators.SignOutgoing(*o.Signing, http.Header{}, nil, "probe", time.Now()); err != nil {
			return nil, fmt.Errorf("outgoing %q: signing: %w", o.Name, err)
		}
	}
	tr := guardedTransport(o, idle)
	d := &destination{cfg: o, host: u.Hostname(), transport: tr, creds: creds, userAgent: "hookgate/" + version}
	if creds != nil {
		d.redact = newRedactor(o, &creds.profile)
		if creds.oauth != nil {
			creds.oauth.onToken = d.redact.remember
		}
	} else {
		d.redact = newRedactor(o, nil)
	}
	d.rt = tr
	if o.RateLimit.N > 0 && o.RateLimit.Per > 0 {
		perSecond := float64(o.RateLimit.N) / o.RateLimit.Per.Seconds()
		burst := max(1, int(perSecond))
		d.limiter = rate.NewLimiter(rate.Limit(perSecond), burst)
	}
	return d, nil
}

// maxHostInError bounds the host a redirect error names: a DNS name has at
// most 253 characters, anything longer is the destination's invention.
const maxHostInError = 260

// errRedirect is the failure of an attempt answered with a 3xx: "redirect
// 302 to HOST not followed" (SPEC §6), HOST the host name of Location
// resolved against the request's URL, without port or IPv6 brackets.
func errRedirect(resp *http.Response) error {
	code := resp.StatusCode
	loc := resp.Header.Get("Location")
	if loc == "" {
		return fmt.Errorf("redirect %d without a Location not followed", code)
	}
	var u *url.URL
	var err error
	if resp.Request != nil && resp.Request.URL != nil {
		u, err = resp.Request.URL.Parse(loc)
	} else {
		u, err = url.Parse(loc)
	}
	if err != nil || u.Hostname() == "" {
		return fmt.Errorf("redirect %d to an unreadable Location not followed", code)
	}
	return fmt.Errorf("redirect %d to %s not followed", code, clip(u.Hostname(), maxHostInError))
}

// send makes one delivery attempt. An OAuth2 token the destination answers
// 401 to is dropped and the request made once more with a fresh token.
// stop ends a rate-limit wait; ctx aborts the request itself.
func (d *destination) send(ctx, stop context.Context, body []byte, contentType, id string) *deliveryError {
	if d.limiter != nil {
		if err := d.limiter.Wait(stop); err != nil {
			return &deliveryError{retryable: true, err: errStopping}
		}
	}
	ctx, endSpan := d.startAttempt(ctx)
	for try := 0; ; try++ {
		status, used, derr := d.do(ctx, body, contentType, id)
		if status == http.StatusUnauthorized && used != nil && try == 0 {
			d.creds.oauth.invalidate(used)
			continue
		}
		if derr != nil {
			// Its text becomes hookgate-error and a log line: the
			// destination (a Location, a token server's error code) may
			// have put a secret there.
			derr.err = d.redact.err(derr.err)
		}
		endSpan(status, derr)
		return derr
	}
}

// do is one HTTP exchange; it returns the status (0 when none came) and the
// OAuth2 token it carried, if any.
func (d *destination) do(ctx context.Context, body []byte, contentType, id string) (int, *oauth2.Token, *deliveryError) {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, d.cfg.Method, d.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return 0, nil, &deliveryError{err: fmt.Errorf("build request: %w", err)}
	}
	for _, kv := range d.cfg.Headers {
		req.Header.Set(kv.Key, kv.Value)
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", d.userAgent)
	req.Header.Set("Idempotency-Key", id)
	injectTrace(ctx, req.Header)
	var used *oauth2.Token
	if d.creds != nil {
		if used, err = d.creds.apply(ctx, req); err != nil {
			if errors.Is(err, errAddressNotAllowed) {
				// A token endpoint at a refused address stays refused, and
				// the dead letter says so in the words of SPEC §6.
				return 0, nil, &deliveryError{err: errAddressNotAllowed}
			}
			return 0, nil, &deliveryError{retryable: true, err: err}
		}
	}
	if d.cfg.Signing != nil {
		if err := validators.SignOutgoing(*d.cfg.Signing, req.Header, body, id, time.Now()); err != nil {
			return 0, nil, &deliveryError{err: fmt.Errorf("sign: %w", err)}
		}
	}
	// Straight to the transport: a 3xx comes back as an answer, never followed.
	resp, err := d.rt.RoundTrip(req)
	if err != nil {
		return d.failed(ctx, err)
	}
	// Drain a little so the connection can be reused; the rest is dropped.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return code, used, nil
	}
	derr := &deliveryError{status: code, retryable: retryableStatus(code),
		err: fmt.Errorf("unexpected status %d %s", code, http.StatusText(code))}
	if code >= 300 && code < 400 {
		// Retried like a 5xx: the destination may be moving back.
		derr.retryable, derr.err = true, errRedirect(resp)
	}
	if derr.retryable {
		derr.retryAfter, derr.hasRetry = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return code, used, derr
}

// failed classifies a request that got no usable answer.
func (d *destination) failed(ctx context.Context, err error) (int, *oauth2.Token, *deliveryError) {
	switch {
	case errors.Is(err, errAddressNotAllowed):
		return 0, nil, &deliveryError{err: errAddressNotAllowed}
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return 0, nil, &deliveryError{retryable: true, err: fmt.Errorf("no answer within timeout %s", d.cfg.Timeout)}
	}
	// url.Error repeats the URL, whose query may hold a key: keep the cause only.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return 0, nil, &deliveryError{retryable: true, err: fmt.Errorf("%s %s: %w", d.cfg.Method, d.host, err)}
}

// parseAbsolute parses an absolute http or https URL with a host.
func parseAbsolute(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err == nil && (u.Scheme != "http" && u.Scheme != "https" || u.Host == "") {
		err = errors.New("not an absolute http or https URL")
	}
	return u, err
}

// redactURL drops userinfo and query from a URL for error messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.IndexAny(raw, "?@"); i >= 0 {
			return raw[:i] + "…"
		}
		return raw
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	return u.String()
}
