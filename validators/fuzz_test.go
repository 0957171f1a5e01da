package validators

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/configs"
)

// Seeds live in testdata/fuzz/<FuzzName>/; plain `go test` runs only those.

func FuzzStripeSignature(f *testing.F) {
	chain, err := Build([]configs.PreProcessor{hmacPP(configs.HMAC{Preset: "stripe", Secret: "whsec_fuzz"})})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, header string) {
		sigs, ts := parseStripe(nil, header, sha256.Size)
		if len(sigs)%sha256.Size != 0 {
			t.Fatalf("%d signature bytes, not a multiple of %d", len(sigs), sha256.Size)
		}
		// Every parsed signature appears, hex-encoded, in the header.
		for off := 0; off < len(sigs); off += sha256.Size {
			if !strings.Contains(strings.ToLower(header), hex.EncodeToString(sigs[off:off+sha256.Size])) {
				t.Fatalf("signature %x not in header %q", sigs[off:off+sha256.Size], header)
			}
		}
		if ts != "" && !strings.Contains(header, "t="+ts) {
			t.Fatalf("timestamp %q not in header %q", ts, header)
		}
		// The validator never panics and never passes an unsigned body.
		r := newRequest(t, "", http.Header{"Stripe-Signature": {header}}, BytesBody("{}"))
		if err := chain.Validate(t.Context(), r); err == nil {
			t.Fatalf("header %q passed without the secret", header)
		}
	})
}

func FuzzStandardWebhooksSignature(f *testing.F) {
	f.Fuzz(func(t *testing.T, header string) {
		var scratch []byte
		sigs := parseStandardWebhooks(nil, header, sha256.Size, &scratch)
		if len(sigs)%sha256.Size != 0 {
			t.Fatalf("%d signature bytes, not a multiple of %d", len(sigs), sha256.Size)
		}
		for off := 0; off < len(sigs); off += sha256.Size {
			want := "v1," + base64.StdEncoding.EncodeToString(sigs[off:off+sha256.Size])
			if !strings.Contains(header, want) {
				t.Fatalf("%q parsed from %q, but not in it", want, header)
			}
		}
		if len(sigs) > maxCandidates*sha256.Size {
			t.Fatalf("%d signatures read, more than %d", len(sigs)/sha256.Size, maxCandidates)
		}
		// Appending a well-formed signature yields it as the last one, unless
		// the header already holds the maximum.
		mac := sha256.Sum256([]byte(header))
		again := parseStandardWebhooks(nil, header+" v1,"+base64.StdEncoding.EncodeToString(mac[:]), sha256.Size, &scratch)
		if len(sigs) < maxCandidates*sha256.Size && (len(again) < sha256.Size || !bytes.Equal(again[len(again)-sha256.Size:], mac[:])) {
			t.Fatalf("appended signature not found after %q", header)
		}
	})
}

func FuzzPrefixedSignature(f *testing.F) {
	f.Fuzz(func(t *testing.T, value, prefix string, useBase64 bool) {
		enc := encHex
		if useBase64 {
			enc = encBase64
		}
		var scratch []byte
		got, ok := parsePrefixed(nil, value, prefix, enc, sha256.Size, &scratch)
		if ok != (len(got) == sha256.Size) || (!ok && len(got) != 0) {
			t.Fatalf("ok=%v with %d bytes", ok, len(got))
		}
		if ok {
			// What was read re-encodes to what was sent (hex compared without case).
			sent := strings.TrimPrefix(strings.TrimSpace(value), prefix)
			if re := enc.encode(got); !strings.EqualFold(re, sent) {
				t.Fatalf("decoded %x re-encodes to %q, sent %q", got, re, sent)
			}
		}
		// Round trip: an encoded MAC with the prefix parses back.
		mac := sha256.Sum256([]byte(value))
		back, ok := parsePrefixed(nil, prefix+enc.encode(mac[:]), prefix, enc, sha256.Size, &scratch)
		if strings.TrimSpace(prefix) == prefix && (!ok || !bytes.Equal(back, mac[:])) {
			t.Fatalf("round trip failed for prefix %q", prefix)
		}
	})
}

func FuzzForwardedFor(f *testing.F) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	isTrusted := func(a netip.Addr) bool { return containsAddr(trusted, a) }
	f.Fuzz(func(t *testing.T, remote, xff string) {
		lines := strings.Split(xff, "\n")
		got, ok := clientAddr(remote, lines, isTrusted)
		peer, peerOK := parseHostAddr(remote)
		if !peerOK {
			if ok {
				t.Fatalf("unparsable peer %q gave client %v", remote, got)
			}
			return
		}
		if !isTrusted(peer) {
			if !ok || got != peer {
				t.Fatalf("untrusted peer %v: client %v, %v", peer, got, ok)
			}
			return
		}
		// Oracle: the entries in order, walked from the right past trusted
		// proxies; the first untrusted one is the client, else the leftmost.
		var entries []string
		for _, line := range lines {
			for _, e := range strings.Split(line, ",") {
				if e = strings.TrimSpace(e); e != "" {
					entries = append(entries, e)
				}
			}
		}
		want, wantOK := peer, true
		for i := len(entries) - 1; i >= 0; i-- {
			a, aok := parseHostAddr(entries[i])
			if !aok {
				want, wantOK = netip.Addr{}, false
				break
			}
			want = a
			if !isTrusted(a) {
				break
			}
		}
		if ok != wantOK || got != want {
			t.Fatalf("clientAddr(%q, %q) = %v, %v; want %v, %v", remote, xff, got, ok, want, wantOK)
		}
		if !ok {
			return
		}
		if got.Zone() != "" || got.Is4In6() {
			t.Fatalf("client %v keeps a zone or a 4in6 form", got)
		}
	})
}
