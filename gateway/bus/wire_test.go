package bus

import "testing"

func TestNames(t *testing.T) {
	a := ConsumerName("orders-to-erp", "erp")
	if a != ConsumerName("orders-to-erp", "erp") {
		t.Error("ConsumerName is not deterministic")
	}
	tests := []struct{ r1, o1, r2, o2 string }{
		{"a_b", "c", "a", "b_c"},
		{"a.b", "c", "a_b", "c"},
		{"x y", "z", "x*y", "z"},
	}
	for _, tt := range tests {
		if ConsumerName(tt.r1, tt.o1) == ConsumerName(tt.r2, tt.o2) {
			t.Errorf("pairs (%s,%s) and (%s,%s) share a consumer", tt.r1, tt.o1, tt.r2, tt.o2)
		}
	}
	for _, n := range []string{ConsumerName("a.b c/d*>", "e\\f"), ConsumerName(string(make([]byte, 300)), "x")} {
		for _, c := range n {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
				t.Errorf("consumer name %q holds %q", n, c)
			}
		}
		if len(n) > 200 {
			t.Errorf("consumer name %d bytes long", len(n))
		}
	}
	if got := DLQSubject("orders to.erp", "erp"); got != "dlq.orders_to_erp.erp" {
		t.Errorf("DLQSubject = %q", got)
	}
}
