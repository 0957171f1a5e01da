package validators

import (
	"fmt"

	"github.com/hookgate/hookgate/configs"
)

// Build turns a webhook's pre_processors into a Chain, checking every entry
// and precomputing keys and header names so that validation allocates little.
// Errors name the entry as pre_processors[i].KIND.KEY.
func Build(pp []configs.PreProcessor) (Chain, error) {
	chain := make(Chain, 0, len(pp))
	for i, p := range pp {
		v, err := build(p, fmt.Sprintf("pre_processors[%d]", i))
		if err != nil {
			return nil, err
		}
		chain = append(chain, v)
	}
	return chain, nil
}

// build makes the validator of one entry.
func build(p configs.PreProcessor, path string) (Validator, error) {
	set := 0
	for _, ok := range []bool{p.HeaderSecret != nil, p.BasicAuth != nil, p.IPAllowlist != nil, p.HMAC != nil} {
		if ok {
			set++
		}
	}
	if set != 1 {
		return nil, fmt.Errorf("%s: set exactly one of header_secret, basic_auth, ip_allowlist, hmac (found %d)", path, set)
	}
	switch {
	case p.HeaderSecret != nil:
		return newHeaderSecret(*p.HeaderSecret, path+".header_secret")
	case p.BasicAuth != nil:
		return newBasicAuth(*p.BasicAuth, path+".basic_auth")
	case p.IPAllowlist != nil:
		return newIPAllowlist(*p.IPAllowlist, path+".ip_allowlist")
	}
	return buildHMAC(*p.HMAC, path+".hmac")
}

// buildHMAC makes a signature validator; the token (gitlab) and Twilio
// schemes are not HMAC over a signed payload and have their own types.
func buildHMAC(c configs.HMAC, path string) (Validator, error) {
	p, _ := configs.PresetByName(c.Preset) // an unknown name is reported by newHMAC
	if c.PublicURL != "" && p.Scheme != configs.SigTwilio {
		return nil, fmt.Errorf("%s.public_url: only used by preset twilio; remove it", path)
	}
	switch p.Scheme {
	case configs.SigToken:
		return newGitLab(c, p, path)
	case configs.SigTwilio:
		return newTwilio(c, p, path)
	}
	return newHMAC(c, path)
}

// DedupKeyDefault is the dedup key spec of the first preset that has one
// (configs.Preset.DedupKey: header:NAME or body:PATH; "" for none), SPEC §5
// table.
func DedupKeyDefault(pp []configs.PreProcessor) string {
	for _, p := range pp {
		if p.HMAC == nil || p.HMAC.Preset == "" {
			continue
		}
		if pr, ok := configs.PresetByName(p.HMAC.Preset); ok && pr.DedupKey != "" {
			return pr.DedupKey
		}
	}
	return ""
}
