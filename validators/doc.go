// Package validators checks that an inbound webhook request is genuine
// (SPEC §5): header secrets, basic auth, IP allowlists and HMAC signatures
// with the providers' presets. It also signs requests the same way, for
// `hookgate send` (Sign) and for outgoing deliveries (SignOutgoing). It knows
// nothing of HTTP frameworks or NATS: a validator sees a Request.
//
// Build turns a webhook's pre_processors into a Chain once per config load;
// decoded keys, canonical header names and the signed-payload template are
// computed there, and per-request scratch (keyed HMACs, buffers) is pooled,
// so a GitHub check of a 1 KiB body allocates nothing. A Chain is immutable
// and safe for concurrent use.
//
// Where SPEC §5 is silent, this package does the following:
//
//   - Order of checks: signature header present, then the id and timestamp
//     headers, then the signature parsed, then the timestamp window, then the
//     MAC. A stale request is therefore refused without hashing its body.
//   - Hex signatures are accepted in either case; base64 is standard,
//     padded base64. Surrounding spaces in a prefixed header are ignored.
//   - Generic form: algorithm defaults to sha256, encoding to hex,
//     signed_payload to "{body}", which must appear exactly once. With a
//     timestamp_header and no tolerance the window is 5m, like the presets.
//     A preset combined with generic keys is a config error; tolerance may
//     override a preset's 5m window.
//   - Stripe: as stripe-go does, unreadable v1 values and other schemes (v0)
//     are ignored; a header without t= is "invalid signature".
//   - Standard Webhooks: the secret must start with whsec_ (the standard's
//     libraries would also take bare base64; SPEC and configs do not); v1a
//     (asymmetric) signatures are ignored.
//   - Twilio: the URL signed is public_url with its query replaced by the
//     query received, when there is one (Twilio signs the URL it called,
//     including the bodySHA256 it adds for JSON bodies); the default port may
//     be present or absent, as Twilio's libraries accept. Repeated form keys
//     sign each value, sorted. A non-form body must be covered by
//     bodySHA256. Form bodies over 1 MiB are refused instead of being held in
//     memory to be sorted.
//   - header_secret answers "Wrong authentication token provided" both for
//     a missing and a wrong header; basic_auth answers "invalid
//     credentials". Secret comparisons hash both sides with SHA-256 first, so
//     they are constant-time in the secret's length too.
//   - ip_allowlist accepts bare addresses beside CIDRs and compares
//     IPv4-mapped IPv6 addresses as IPv4. Behind trusted proxies only, X-
//     Forwarded-For (all header lines, in order) is read from the right; when
//     every entry is a trusted proxy the leftmost is the client; an entry
//     that is not an address rejects the request.
//   - A failure to read a spooled body is returned as a plain error, not a
//     Rejection: the request was not judged.
//   - NeedsBody tells the validators that read the body (hmac and every
//     preset but gitlab) from those that judge by headers and the peer
//     address alone, which the gateway runs before reading the body (SPEC
//     §11). When several validators would refuse a request, one of the
//     latter then gives the answer even if it comes later in the list.
package validators
