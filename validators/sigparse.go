package validators

import (
	"encoding/base64"
	"strings"
)

// encoding is how a MAC is written in a header.
type encoding int

const (
	encHex encoding = iota
	encBase64
)

// encodingFor reads an encoding as configs writes it: hex (also "", the
// default) or base64.
func encodingFor(name string) (encoding, bool) {
	switch name {
	case "", "hex":
		return encHex, true
	case "base64":
		return encBase64, true
	}
	return 0, false
}

func (e encoding) encode(mac []byte) string {
	if e == encBase64 {
		return base64.StdEncoding.EncodeToString(mac)
	}
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(mac))
	for i, c := range mac {
		out[2*i] = digits[c>>4]
		out[2*i+1] = digits[c&0xf]
	}
	return string(out)
}

// decodeAppend decodes s, which must encode exactly size bytes, and appends
// the bytes to dst. It reports false (dst unchanged) for anything else, so a
// malformed candidate is simply not a match. scratch is reused to avoid an
// allocation for base64, whose decoder wants bytes.
func (e encoding) decodeAppend(dst []byte, s string, size int, scratch *[]byte) ([]byte, bool) {
	if e == encHex {
		if len(s) != 2*size {
			return dst, false
		}
		start := len(dst)
		for i := 0; i < len(s); i += 2 {
			hi, ok1 := unhex(s[i])
			lo, ok2 := unhex(s[i+1])
			if !ok1 || !ok2 {
				return dst[:start], false
			}
			dst = append(dst, hi<<4|lo)
		}
		return dst, true
	}
	if len(s) != base64.StdEncoding.EncodedLen(size) {
		return dst, false
	}
	*scratch = append((*scratch)[:0], s...)
	start := len(dst)
	out, err := base64.StdEncoding.AppendDecode(dst, *scratch)
	if err != nil || len(out)-start != size {
		return dst[:start], false
	}
	// The decoder ignores the unused bits of the last character, so several
	// texts decode alike; accept only the canonical one, as providers'
	// libraries (which compare encoded strings) do.
	n := len(*scratch)
	*scratch = base64.StdEncoding.AppendEncode(*scratch, out[start:])
	if string((*scratch)[:n]) != string((*scratch)[n:]) {
		return dst[:start], false
	}
	return out, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// parsePrefixed reads a header of the form prefix + encoded MAC (GitHub
// "sha256=<hex>", Slack "v0=<hex>", Shopify "<base64>"). Surrounding
// spaces are ignored. It appends the decoded MAC to dst.
func parsePrefixed(dst []byte, value, prefix string, enc encoding, size int, scratch *[]byte) ([]byte, bool) {
	value = strings.TrimSpace(value)
	rest, ok := strings.CutPrefix(value, prefix)
	if !ok {
		return dst, false
	}
	return enc.decodeAppend(dst, rest, size, scratch)
}

// maxCandidates bounds the signatures read from one header: providers send
// one or two, and a header stuffed with thousands must not cost more.
const maxCandidates = 16

// parseStripe reads Stripe's signature header: comma-separated key=value pairs, "t"
// the unix timestamp and every "v1" a hex HMAC-SHA256. As Stripe's own
// libraries do, other schemes (v0) and unreadable v1 values are ignored and
// a later "t" overrides an earlier one. It appends every readable v1 to dst
// and returns the timestamp text ("" when absent).
func parseStripe(dst []byte, value string, size int) (sigs []byte, ts string) {
	for value != "" {
		var pair string
		pair, value, _ = strings.Cut(value, ",")
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			if len(dst) < maxCandidates*size {
				dst, _ = encHex.decodeAppend(dst, v, size, nil)
			}
		}
	}
	return dst, ts
}

// parseStandardWebhooks reads the Standard Webhooks signature header: a space-separated list of
// "version,signature"; every "v1" signature is a base64 HMAC-SHA256 and is
// appended to dst. Other versions (v1a is asymmetric) are ignored.
func parseStandardWebhooks(dst []byte, value string, size int, scratch *[]byte) []byte {
	for value != "" {
		var item string
		item, value, _ = strings.Cut(value, " ")
		version, sig, ok := strings.Cut(item, ",")
		if !ok || version != "v1" || len(dst) >= maxCandidates*size {
			continue
		}
		dst, _ = encBase64.decodeAppend(dst, sig, size, scratch)
	}
	return dst
}
