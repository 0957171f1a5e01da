package validators

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"hash"
	"net/textproto"
	"strings"
	"time"

	"github.com/hookgate/hookgate/configs"
)

// defaultTolerance is the replay window of every preset with a timestamp,
// and of the generic form when timestamp_header is set without tolerance.
const defaultTolerance = 5 * time.Minute

// preset is one provider's signature scheme (SPEC §5 table).
type preset struct {
	header    string // signature header, as the provider spells it
	algorithm string
	enc       encoding
	prefix    string
	scheme    scheme
	payload   string
	tsHeader  string
	idHeader  string
	tolerance time.Duration
	dedup     string // dedup key default; "" for none
}

// presetNames lists the presets in the order error messages show them.
var presetNames = []string{"github", "github_sha1", "stripe", "shopify", "slack", "standard_webhooks", "gitlab", "twilio"}

// presetByName returns the scheme of a preset. gitlab and twilio are not
// plain HMAC schemes; only their header and dedup key are used from here.
// A function rather than a map, so there is no package-level mutable state.
func presetByName(name string) (preset, bool) {
	switch name {
	case "github":
		return preset{header: "X-Hub-Signature-256", algorithm: "sha256", enc: encHex, prefix: "sha256=",
			dedup: "header:X-GitHub-Delivery"}, true
	case "github_sha1":
		return preset{header: "X-Hub-Signature", algorithm: "sha1", enc: encHex, prefix: "sha1=",
			dedup: "header:X-GitHub-Delivery"}, true
	case "stripe":
		return preset{header: "Stripe-Signature", algorithm: "sha256", enc: encHex, scheme: schemeStripe,
			payload: "{timestamp}.{body}", tolerance: defaultTolerance, dedup: "body:id"}, true
	case "shopify":
		return preset{header: "X-Shopify-Hmac-Sha256", algorithm: "sha256", enc: encBase64,
			dedup: "header:X-Shopify-Webhook-Id"}, true
	case "slack":
		return preset{header: "X-Slack-Signature", algorithm: "sha256", enc: encHex, prefix: "v0=",
			payload: "v0:{timestamp}:{body}", tsHeader: "X-Slack-Request-Timestamp", tolerance: defaultTolerance}, true
	case "standard_webhooks":
		return preset{header: "webhook-signature", algorithm: "sha256", enc: encBase64, scheme: schemeStandard,
			payload: "{id}.{timestamp}.{body}", tsHeader: "webhook-timestamp", idHeader: "webhook-id",
			tolerance: defaultTolerance, dedup: "header:webhook-id"}, true
	case "gitlab":
		return preset{header: "X-Gitlab-Token", dedup: "header:X-Gitlab-Event-UUID"}, true
	case "twilio":
		return preset{header: "X-Twilio-Signature", algorithm: "sha1", enc: encBase64,
			dedup: "header:I-Twilio-Idempotency-Token"}, true
	}
	return preset{}, false
}

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

// newHMAC builds the validator of one hmac entry: a preset (except gitlab
// and twilio, built elsewhere) or the generic keys. path prefixes errors.
func newHMAC(c configs.HMAC, path string) (*hmacValidator, error) {
	secrets := c.AllSecrets()
	if len(secrets) == 0 {
		return nil, fmt.Errorf("%s.secret: missing; set secret or secrets", path)
	}
	var p preset
	if c.Preset != "" {
		var ok bool
		if p, ok = presetByName(c.Preset); !ok {
			return nil, fmt.Errorf("%s.preset: unknown value %q; use %s", path, c.Preset, strings.Join(presetNames, ", "))
		}
		if extra := genericKeysWithPreset(c); len(extra) > 0 {
			return nil, fmt.Errorf("%s.%s: not allowed with preset %s; remove it, or drop the preset and use the generic keys", path, extra[0], c.Preset)
		}
		if c.Tolerance != 0 {
			if p.tolerance == 0 {
				return nil, fmt.Errorf("%s.tolerance: preset %s has no timestamp; remove it", path, c.Preset)
			}
			p.tolerance = c.Tolerance
		}
	} else {
		if c.Header == "" {
			return nil, fmt.Errorf("%s.header: missing; set the signature header, or a preset (%s)", path, strings.Join(presetNames, ", "))
		}
		p = preset{header: c.Header, algorithm: c.Algorithm, prefix: c.Prefix, payload: c.SignedPayload,
			tsHeader: c.TimestampHeader, idHeader: c.IDHeader, tolerance: c.Tolerance}
		if p.algorithm == "" {
			p.algorithm = "sha256"
		}
		switch c.Encoding {
		case "", "hex":
			p.enc = encHex
		case "base64":
			p.enc = encBase64
		default:
			return nil, fmt.Errorf("%s.encoding: unknown value %q; use hex or base64", path, c.Encoding)
		}
		if c.Tolerance != 0 && p.tsHeader == "" {
			return nil, fmt.Errorf("%s.tolerance: needs timestamp_header, the header with the unix time; set it or remove tolerance", path)
		}
		if p.tsHeader != "" && p.tolerance == 0 {
			p.tolerance = defaultTolerance
		}
	}
	if p.tolerance < 0 {
		return nil, fmt.Errorf("%s.tolerance: %s is negative; use a duration such as 5m", path, p.tolerance)
	}
	newHash, size, ok := hashFor(p.algorithm)
	if !ok {
		return nil, fmt.Errorf("%s.algorithm: unknown value %q; use sha1, sha256 or sha512", path, p.algorithm)
	}
	segs, err := parseSignedPayload(p.payload)
	if err != nil {
		return nil, fmt.Errorf("%s.signed_payload: %w", path, err)
	}
	v := &hmacValidator{
		sigKey: textproto.CanonicalMIMEHeaderKey(p.header), sigName: p.header,
		scheme: p.scheme, prefix: p.prefix, enc: p.enc, size: size,
		payload: segs, newHash: newHash, tolerance: p.tolerance,
	}
	if p.tsHeader != "" {
		v.tsKey, v.tsName = textproto.CanonicalMIMEHeaderKey(p.tsHeader), p.tsHeader
	}
	if p.idHeader != "" {
		v.idKey, v.idName = textproto.CanonicalMIMEHeaderKey(p.idHeader), p.idHeader
	}
	usesTS, usesID := false, false
	for _, s := range segs {
		usesTS = usesTS || s.kind == segTimestamp
		usesID = usesID || s.kind == segID
	}
	if usesTS && v.tsKey == "" && v.scheme != schemeStripe {
		return nil, fmt.Errorf("%s.signed_payload: uses {timestamp}; set timestamp_header", path)
	}
	if usesID && v.idKey == "" {
		return nil, fmt.Errorf("%s.signed_payload: uses {id}; set id_header", path)
	}
	v.needsTS = v.tsKey != "" || v.scheme == schemeStripe
	for i, s := range secrets {
		k, err := decodeSecret(c.Preset, s)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", path, secretPath(c.Secret != "", i), err)
		}
		v.keys = append(v.keys, k)
	}
	v.init()
	return v, nil
}

// decodeSecret turns a configured secret into the HMAC key. Only Standard
// Webhooks encodes its key: "whsec_" + base64 (SPEC §5 requires the prefix,
// although the standard's libraries would also take the bare base64).
// Stripe's whsec_ keys are used as written.
func decodeSecret(presetName, s string) ([]byte, error) {
	if presetName != "standard_webhooks" {
		return []byte(s), nil
	}
	b64, ok := strings.CutPrefix(s, "whsec_")
	k, err := base64.StdEncoding.DecodeString(b64)
	if !ok || err != nil || len(k) == 0 {
		// The secret itself is never echoed.
		return nil, fmt.Errorf("not a Standard Webhooks secret; use whsec_ followed by the base64 key")
	}
	return k, nil
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
