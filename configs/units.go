package configs

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Binary size units, as written in configs and in 413 messages.
const (
	KiB Size = 1 << 10
	MiB Size = 1 << 20
	GiB Size = 1 << 30
	TiB Size = 1 << 40
)

var sizeUnits = []struct {
	suffix string
	mult   Size
}{
	{"TiB", TiB}, {"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB}, {"B", 1},
}

// ParseSize reads 512KiB, 10MiB, 1GiB, 1TiB, 1000B or plain bytes (1000).
func ParseSize(s string) (Size, error) {
	num, mult := s, Size(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(s, u.suffix) {
			num, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || num == "" || num[0] == '+' {
		return 0, fmt.Errorf("invalid size %q; use bytes or a whole number with KiB, MiB or GiB (512KiB, 10MiB, 1GiB)", s)
	}
	if n > int64(^uint64(0)>>1)/int64(mult) {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return Size(n) * mult, nil
}

// FormatSize writes s as NGiB, NMiB or NKiB when it is an exact multiple, else as NB
// (10MiB, 1000B): the form used in "body exceeds 10MiB".
func FormatSize(s Size) string {
	for _, u := range sizeUnits[1:4] { // GiB, MiB, KiB
		if s != 0 && s%u.mult == 0 {
			return strconv.FormatInt(int64(s/u.mult), 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(s), 10) + "B"
}

// String implements fmt.Stringer with FormatSize.
func (s Size) String() string { return FormatSize(s) }

// ParseRate reads N/s, N/m or N/h with N a positive whole number.
func ParseRate(s string) (Rate, error) {
	num, unit, ok := strings.Cut(s, "/")
	per := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}[unit]
	n, err := strconv.Atoi(num)
	if !ok || per == 0 || err != nil || n <= 0 || num[0] == '+' {
		return Rate{}, fmt.Errorf("invalid rate %q; use N/s, N/m or N/h with N > 0 (50/s)", s)
	}
	return Rate{N: n, Per: per}, nil
}

// String writes the rate as N/s, N/m or N/h; the zero Rate is "unlimited".
func (r Rate) String() string {
	switch r.Per {
	case time.Second:
		return fmt.Sprintf("%d/s", r.N)
	case time.Minute:
		return fmt.Sprintf("%d/m", r.N)
	case time.Hour:
		return fmt.Sprintf("%d/h", r.N)
	}
	if r.N == 0 {
		return "unlimited"
	}
	return fmt.Sprintf("%d/%s", r.N, r.Per)
}
