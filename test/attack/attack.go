// Package attack builds the hostile request bodies of SPEC §11 that tests
// of more than one package send: the parsers' unit tests and the
// end-to-end tests must face the same attack.
package attack

import (
	"fmt"
	"strings"
)

// AmplifyingCSV is the reported attack on max_items_bytes (SPEC §11): a
// header of 50 names of 200 characters, then empty rows (49 commas) up to
// size bytes; each 50-byte row becomes an item of about 10 KB.
func AmplifyingCSV(size int) []byte {
	var b strings.Builder
	for i := range 50 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%03d%s", i, strings.Repeat("h", 197))
	}
	b.WriteByte('\n')
	row := strings.Repeat(",", 49) + "\n"
	for b.Len()+len(row) <= size {
		b.WriteString(row)
	}
	return []byte(b.String())
}
