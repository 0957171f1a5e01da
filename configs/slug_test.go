package configs

import "testing"

func TestSlug(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"spec example", " Shop: Orders (EU) ", "shop-orders-eu"},
		{"upper case is lowered", "ERP Orders", "erp-orders"},
		{"digits are kept", "Stock 2", "stock-2"},
		{"underscores become dashes", "erp_stock", "erp-stock"},
		{"runs collapse to one dash", "a -- _ b", "a-b"},
		{"non-ASCII letters separate", "Jürgen", "j-rgen"},
		{"leading and trailing separators go", "--x--", "x"},
		{"nothing usable is empty", "!!!", ""},
		{"already a slug is unchanged", "erp-stock", "erp-stock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Slug(tt.in)
			if got != tt.want {
				t.Fatalf("Slug(%q) = %q; want %q", tt.in, got, tt.want)
			}
			if got != "" && !identifierRe.MatchString(got) {
				t.Fatalf("Slug(%q) = %q is not a valid identifier", tt.in, got)
			}
		})
	}
}
