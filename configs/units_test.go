package configs

import (
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		name, in string
		want     Size
		wantErr  bool
	}{
		{"plain bytes", "1000", 1000, false},
		{"bytes with B", "1000B", 1000, false},
		{"kibibytes", "512KiB", 512 * KiB, false},
		{"mebibytes", "10MiB", 10 * MiB, false},
		{"gibibytes", "1GiB", GiB, false},
		{"tebibytes", "2TiB", 2 * TiB, false},
		{"zero is a size", "0", 0, false},
		{"decimal megabytes are refused", "10MB", 0, true},
		{"lower-case unit is refused", "10mib", 0, true},
		{"a space is refused", "10 MiB", 0, true},
		{"fractions are refused", "1.5MiB", 0, true},
		{"negative is refused", "-1KiB", 0, true},
		{"plus sign is refused", "+1KiB", 0, true},
		{"unit alone is refused", "MiB", 0, true},
		{"empty is refused", "", 0, true},
		{"overflow is refused", "9999999999999TiB", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ParseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestFormatSize(t *testing.T) {
	tests := []struct {
		name string
		in   Size
		want string
	}{
		{"exact mebibytes", 10 * MiB, "10MiB"},
		{"exact gibibytes", GiB, "1GiB"},
		{"exact kibibytes", 512 * KiB, "512KiB"},
		{"mebibytes win over kibibytes", 2048 * KiB, "2MiB"},
		{"inexact is bytes", 1000, "1000B"},
		{"one and a half kibibytes is bytes", 1536, "1536B"},
		{"zero is bytes", 0, "0B"},
		{"large gibibytes stay gibibytes", 1024 * GiB, "1024GiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatSize(tt.in); got != tt.want {
				t.Fatalf("FormatSize(%d) = %q; want %q", tt.in, got, tt.want)
			}
			if back, err := ParseSize(FormatSize(tt.in)); err != nil || back != tt.in {
				t.Fatalf("ParseSize(FormatSize(%d)) = %d, %v; want a round trip", tt.in, back, err)
			}
		})
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		name, in string
		want     Rate
		wantErr  bool
	}{
		{"per second", "50/s", Rate{50, time.Second}, false},
		{"per minute", "30/m", Rate{30, time.Minute}, false},
		{"per hour", "1000/h", Rate{1000, time.Hour}, false},
		{"per day is refused", "5/d", Rate{}, true},
		{"zero is refused", "0/s", Rate{}, true},
		{"negative is refused", "-1/s", Rate{}, true},
		{"missing unit is refused", "50", Rate{}, true},
		{"spelled-out unit is refused", "50/sec", Rate{}, true},
		{"fraction is refused", "0.5/s", Rate{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRate(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("ParseRate(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
			if err == nil && got.String() != tt.in {
				t.Fatalf("Rate.String() = %q; want %q", got.String(), tt.in)
			}
		})
	}
}
