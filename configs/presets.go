package configs

import (
	"cmp"
	"encoding/base64"
	"slices"
	"strings"
	"time"
)

// Preset is one provider's signature scheme of the SPEC §5 table, as data:
// the headers it reads, its timestamp rule, how its secret is used, its
// dedup key default and whether it signs outgoing deliveries. Config
// checks, defaults, the validators and the request log's redaction all read
// it; package validators adds the behaviour (hashes, header parsers,
// Twilio's URL rules).
type Preset struct {
	Name string
	// Scheme is how the signature header is laid out and checked.
	Scheme SigScheme
	// Header carries the signature (or, for SigToken, the secret), spelled
	// as the provider documents it.
	Header string
	// Algorithm (sha1 | sha256) and Encoding (hex | base64) of the MAC;
	// empty for SigToken.
	Algorithm, Encoding string
	// Prefix comes before the encoded MAC in Header (SigPrefixed).
	Prefix string
	// SignedPayload is the template signed, "" meaning "{body}".
	SignedPayload string
	// TimestampHeader and IDHeader are the headers {timestamp} and {id}
	// come from; Stripe's timestamp rides in Header instead.
	TimestampHeader, IDHeader string
	// Timestamp says the signature covers a time, so tolerance applies
	// (DefaultTolerance unless set).
	Timestamp bool
	// Secret is how a configured secret becomes the key.
	Secret SecretEncoding
	// DedupKey is the dedup_key default ("" for none), header:NAME or body:PATH.
	DedupKey string
	// Outgoing is 0 when the preset cannot sign outgoing deliveries, else
	// its place (1, 2, …) in the list of signing presets messages offer.
	Outgoing int
}

// SigScheme is how a preset's signature header is laid out, and so which
// validator checks it.
type SigScheme int

const (
	SigPrefixed         SigScheme = iota // Prefix + one encoded MAC of SignedPayload
	SigStripe                            // t=<unix>,v1=<hex>[,v1=…]: the timestamp rides in the header
	SigStandardWebhooks                  // v1,<base64>[ v1,<base64>…]
	SigToken                             // the header carries the secret itself
	SigTwilio                            // a MAC of the URL called and the form parameters
)

// SecretEncoding is how a configured secret becomes the HMAC key.
type SecretEncoding int

const (
	// SecretAsWritten uses the secret's bytes (Stripe's whsec_ keys too).
	SecretAsWritten SecretEncoding = iota
	// SecretWhsecBase64 is "whsec_" followed by the base64 key (Standard
	// Webhooks; SPEC §5 requires the prefix, although the standard's
	// libraries would also take the bare base64).
	SecretWhsecBase64
)

// Key returns the key that secret s stands for, false when s is not written
// in this encoding.
func (e SecretEncoding) Key(s string) ([]byte, bool) {
	if e == SecretAsWritten {
		return []byte(s), true
	}
	b64, ok := strings.CutPrefix(s, "whsec_")
	k, err := base64.StdEncoding.DecodeString(b64)
	return k, ok && err == nil && len(k) > 0
}

// Tolerance is the preset's default timestamp window: DefaultTolerance for
// a preset with a timestamp, else 0.
func (p Preset) Tolerance() time.Duration {
	if p.Timestamp {
		return DefaultTolerance
	}
	return 0
}

// Headers are the headers the preset reads to check a request, which the
// request log masks.
func (p Preset) Headers() []string {
	var hs []string
	for _, h := range []string{p.Header, p.TimestampHeader, p.IDHeader} {
		if h != "" {
			hs = append(hs, h)
		}
	}
	return hs
}

// presetTable is the table, in the order of SPEC §5 and of error messages.
// It is only read, through the functions below, which hand out copies (a
// Preset holds no slice or pointer, so a copy shares nothing): a lookup,
// which the router makes for every delivery it signs, allocates nothing.
var presetTable = [...]Preset{
	{Name: "github", Header: "X-Hub-Signature-256", Algorithm: "sha256", Encoding: "hex", Prefix: "sha256=",
		DedupKey: "header:X-GitHub-Delivery", Outgoing: 2},
	{Name: "github_sha1", Header: "X-Hub-Signature", Algorithm: "sha1", Encoding: "hex", Prefix: "sha1=",
		DedupKey: "header:X-GitHub-Delivery"},
	{Name: "stripe", Scheme: SigStripe, Header: "Stripe-Signature", Algorithm: "sha256", Encoding: "hex",
		SignedPayload: "{timestamp}.{body}", Timestamp: true, DedupKey: "body:id"},
	{Name: "shopify", Header: "X-Shopify-Hmac-Sha256", Algorithm: "sha256", Encoding: "base64",
		DedupKey: "header:X-Shopify-Webhook-Id"},
	{Name: "slack", Header: "X-Slack-Signature", Algorithm: "sha256", Encoding: "hex", Prefix: "v0=",
		SignedPayload: "v0:{timestamp}:{body}", TimestampHeader: "X-Slack-Request-Timestamp", Timestamp: true},
	{Name: "standard_webhooks", Scheme: SigStandardWebhooks, Header: "webhook-signature", Algorithm: "sha256", Encoding: "base64",
		SignedPayload: "{id}.{timestamp}.{body}", TimestampHeader: "webhook-timestamp", IDHeader: "webhook-id", Timestamp: true,
		Secret: SecretWhsecBase64, DedupKey: "header:webhook-id", Outgoing: 1},
	{Name: "gitlab", Scheme: SigToken, Header: "X-Gitlab-Token", DedupKey: "header:X-Gitlab-Event-UUID"},
	{Name: "twilio", Scheme: SigTwilio, Header: "X-Twilio-Signature", Algorithm: "sha1", Encoding: "base64",
		DedupKey: "header:I-Twilio-Idempotency-Token"},
}

// Presets returns a copy of the table, in the order of SPEC §5 and of
// error messages.
func Presets() []Preset { return slices.Clone(presetTable[:]) }

// PresetByName returns the preset called name.
func PresetByName(name string) (Preset, bool) {
	for i := range presetTable {
		if presetTable[i].Name == name {
			return presetTable[i], true
		}
	}
	return Preset{}, false
}

// PresetNames lists every preset, in table order.
func PresetNames() []string { return presetNames(func(Preset) bool { return true }) }

// OutgoingPresetNames lists the presets that sign outgoing deliveries, in
// the order messages offer them.
func OutgoingPresetNames() []string {
	ps := slices.DeleteFunc(Presets(), func(p Preset) bool { return p.Outgoing == 0 })
	slices.SortStableFunc(ps, func(a, b Preset) int { return cmp.Compare(a.Outgoing, b.Outgoing) })
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return names
}

// timestampPresetNames lists the presets tolerance applies to.
func timestampPresetNames() []string { return presetNames(func(p Preset) bool { return p.Timestamp }) }

func presetNames(keep func(Preset) bool) []string {
	var names []string
	for _, p := range presetTable {
		if keep(p) {
			names = append(names, p.Name)
		}
	}
	return names
}
