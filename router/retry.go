package router

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate/configs"
)

// backoff is the delay before attempt+1 after attempt (1-based) failed:
// exponential from InitialInterval, capped at MaxInterval, with full jitter
// (a uniform draw in [0, cap]) so that many failing tasks do not retry in step.
func backoff(r configs.Retry, attempt int, rnd func(int64) int64) time.Duration {
	ceiling := r.InitialInterval
	for i := 1; i < attempt && ceiling < r.MaxInterval; i++ {
		ceiling *= 2
	}
	if ceiling > r.MaxInterval || ceiling <= 0 {
		ceiling = r.MaxInterval
	}
	if ceiling <= 0 {
		return 0
	}
	if rnd == nil {
		rnd = rand.Int64N
	}
	return time.Duration(rnd(int64(ceiling) + 1))
}

// parseRetryAfter reads a Retry-After value, delay-seconds or an HTTP date,
// relative to now; ok is false when the value is absent or malformed.
// A date in the past is a delay of 0.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		// Cap before multiplying so a huge value cannot overflow.
		if secs > int64(365*24*time.Hour/time.Second) {
			secs = int64(365 * 24 * time.Hour / time.Second)
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	if d < 0 {
		d = 0
	}
	return d, true
}

// retryableStatus reports whether an HTTP answer is worth another attempt:
// 408, 429 and every 5xx; other non-2xx answers will not change by retrying.
func retryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}
