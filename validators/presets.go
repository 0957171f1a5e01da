package validators

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"net/textproto"
	"strings"

	"github.com/hookgate/hookgate/configs"
)

// hashFor returns the hash of an algorithm as configs writes it (sha1,
// sha256, sha512) and its size.
func hashFor(algorithm string) (func() hash.Hash, int, bool) {
	switch algorithm {
	case "sha1":
		return sha1.New, sha1.Size, true
	case "sha256":
		return sha256.New, sha256.Size, true
	case "sha512":
		return sha512.New, sha512.Size, true
	}
	return nil, 0, false
}

// genericKeysWithPreset names the generic keys set alongside a preset, which
// would otherwise be silently ignored.
func genericKeysWithPreset(c configs.HMAC) []string {
	var keys []string
	for _, k := range []struct {
		name string
		set  bool
	}{
		{"header", c.Header != ""}, {"algorithm", c.Algorithm != ""}, {"encoding", c.Encoding != ""},
		{"prefix", c.Prefix != ""}, {"signed_payload", c.SignedPayload != ""},
		{"timestamp_header", c.TimestampHeader != ""}, {"id_header", c.IDHeader != ""},
	} {
		if k.set {
			keys = append(keys, k.name)
		}
	}
	return keys
}

// newHMAC builds the validator of one hmac entry: a preset of the
// configs table (one of the HMAC schemes: gitlab and twilio are built
// elsewhere) or the generic keys, read as a preset of their own. path
// prefixes errors.
func newHMAC(c configs.HMAC, path string) (*hmacValidator, error) {
	secrets := c.AllSecrets()
	if len(secrets) == 0 {
		return nil, fmt.Errorf("%s.secret: missing; set secret or secrets", path)
	}
	var p configs.Preset
	var enc encoding
	tolerance := c.Tolerance
	if c.Preset != "" {
		var ok bool
		if p, ok = configs.PresetByName(c.Preset); !ok {
			return nil, fmt.Errorf("%s.preset: unknown value %q; use %s", path, c.Preset, strings.Join(configs.PresetNames(), ", "))
		}
		if extra := genericKeysWithPreset(c); len(extra) > 0 {
			return nil, fmt.Errorf("%s.%s: not allowed with preset %s; remove it, or drop the preset and use the generic keys", path, extra[0], c.Preset)
		}
		if c.Tolerance != 0 && !p.Timestamp {
			return nil, fmt.Errorf("%s.tolerance: preset %s has no timestamp; remove it", path, c.Preset)
		}
		if tolerance == 0 {
			tolerance = p.Tolerance()
		}
		enc, _ = encodingFor(p.Encoding)
	} else {
		if c.Header == "" {
			return nil, fmt.Errorf("%s.header: missing; set the signature header, or a preset (%s)", path, strings.Join(configs.PresetNames(), ", "))
		}
		p = configs.Preset{Header: c.Header, Algorithm: c.Algorithm, Prefix: c.Prefix, SignedPayload: c.SignedPayload,
			TimestampHeader: c.TimestampHeader, IDHeader: c.IDHeader}
		if p.Algorithm == "" {
			p.Algorithm = "sha256"
		}
		var ok bool
		if enc, ok = encodingFor(c.Encoding); !ok {
			return nil, fmt.Errorf("%s.encoding: unknown value %q; use hex or base64", path, c.Encoding)
		}
		if c.Tolerance != 0 && p.TimestampHeader == "" {
			return nil, fmt.Errorf("%s.tolerance: needs timestamp_header, the header with the unix time; set it or remove tolerance", path)
		}
		if p.TimestampHeader != "" && tolerance == 0 {
			tolerance = configs.DefaultTolerance
		}
	}
	if tolerance < 0 {
		return nil, fmt.Errorf("%s.tolerance: %s is negative; use a duration such as 5m", path, tolerance)
	}
	newHash, size, ok := hashFor(p.Algorithm)
	if !ok {
		return nil, fmt.Errorf("%s.algorithm: unknown value %q; use sha1, sha256 or sha512", path, p.Algorithm)
	}
	segs, err := parseSignedPayload(p.SignedPayload)
	if err != nil {
		return nil, fmt.Errorf("%s.signed_payload: %w", path, err)
	}
	v := &hmacValidator{
		sigKey: textproto.CanonicalMIMEHeaderKey(p.Header), sigName: p.Header,
		scheme: p.Scheme, prefix: p.Prefix, enc: enc, size: size,
		payload: segs, newHash: newHash, tolerance: tolerance,
	}
	if p.TimestampHeader != "" {
		v.tsKey, v.tsName = textproto.CanonicalMIMEHeaderKey(p.TimestampHeader), p.TimestampHeader
	}
	if p.IDHeader != "" {
		v.idKey, v.idName = textproto.CanonicalMIMEHeaderKey(p.IDHeader), p.IDHeader
	}
	usesTS, usesID := false, false
	for _, s := range segs {
		usesTS = usesTS || s.kind == segTimestamp
		usesID = usesID || s.kind == segID
	}
	if usesTS && v.tsKey == "" && v.scheme != configs.SigStripe {
		return nil, fmt.Errorf("%s.signed_payload: uses {timestamp}; set timestamp_header", path)
	}
	if usesID && v.idKey == "" {
		return nil, fmt.Errorf("%s.signed_payload: uses {id}; set id_header", path)
	}
	v.needsTS = v.tsKey != "" || v.scheme == configs.SigStripe
	for i, s := range secrets {
		k, ok := p.Secret.Key(s)
		if !ok {
			// Only Standard Webhooks encodes its key; the secret itself is never echoed.
			return nil, fmt.Errorf("%s.%s: not a Standard Webhooks secret; use whsec_ followed by the base64 key", path, secretPath(c.Secret != "", i))
		}
		v.keys = append(v.keys, k)
	}
	v.init()
	return v, nil
}

// secretPath names the i-th of AllSecrets() as written in the config.
func secretPath(hasSecret bool, i int) string {
	if hasSecret {
		if i == 0 {
			return "secret"
		}
		i--
	}
	return fmt.Sprintf("secrets[%d]", i)
}
