package configs

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkLoadExamples measures `hookgate validate -c configs/examples/`.
func BenchmarkLoadExamples(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load("examples"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse1000Webhooks measures a large single-file config, as a
// reload of a big installation would parse it.
func BenchmarkParse1000Webhooks(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("incoming:\n")
	for i := range 1000 {
		fmt.Fprintf(&sb, "  - {name: in-%d, parser: xml, pattern_to_items: Orders.Order}\n", i)
	}
	sb.WriteString("webhooks:\n")
	for i := range 1000 {
		fmt.Fprintf(&sb, "  - name: Hook %d\n    incoming: in-%d\n    pre_processors:\n      - hmac: {preset: github, secret: \"${S:-s%d}\"}\n", i, i, i)
	}
	data := []byte(sb.String())
	env := mapLookup(nil)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := load([]source{{"big.yaml", data}}, env); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "webhooks/s")
}
