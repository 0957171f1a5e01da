package router

import (
	"testing"
	"time"

	"github.com/hookgate/hookgate/configs"
)

func TestBackoffCeiling(t *testing.T) {
	r := configs.Retry{InitialInterval: time.Second, MaxInterval: 10 * time.Second}
	top := func(n int64) int64 { return n - 1 } // the largest draw
	tests := []struct {
		attempt int
		want    time.Duration
	}{
		{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {4, 8 * time.Second}, {5, 10 * time.Second}, {60, 10 * time.Second},
	}
	for _, tt := range tests {
		if got := backoff(r, tt.attempt, top); got != tt.want {
			t.Errorf("attempt %d: ceiling %v, want %v", tt.attempt, got, tt.want)
		}
		if got := backoff(r, tt.attempt, func(int64) int64 { return 0 }); got != 0 {
			t.Errorf("attempt %d: full jitter must reach 0, got %v", tt.attempt, got)
		}
	}
	for range 1000 {
		if d := backoff(r, 3, nil); d < 0 || d > 4*time.Second {
			t.Fatalf("random backoff %v outside [0, 4s]", d)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 25, 15, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   string
		want time.Duration
		ok   bool
	}{
		{"delay seconds", "2", 2 * time.Second, true},
		{"zero", "0", 0, true},
		{"spaces around", " 120 ", 2 * time.Minute, true},
		{"HTTP date in the future", "Wed, 25 Nov 2026 15:00:30 GMT", 30 * time.Second, true},
		{"HTTP date in the past is now", "Wed, 25 Nov 2026 14:00:00 GMT", 0, true},
		{"huge seconds are capped, not overflowed", "99999999999999999", 365 * 24 * time.Hour, true},
		{"absent", "", 0, false},
		{"negative", "-1", 0, false},
		{"garbage", "soon", 0, false},
		{"fractional seconds", "1.5", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseRetryAfter(tt.in, now)
			if got != tt.want || ok != tt.ok {
				t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestRetryableStatus(t *testing.T) {
	for code, want := range map[int]bool{408: true, 429: true, 500: true, 502: true, 503: true, 599: true, 400: false, 401: false, 404: false, 409: false, 422: false, 301: false} {
		if got := retryableStatus(code); got != want {
			t.Errorf("retryableStatus(%d) = %v, want %v", code, got, want)
		}
	}
}
