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

// buildHMAC makes a signature validator; gitlab and twilio are not plain
// HMAC-over-payload schemes and have their own types.
func buildHMAC(c configs.HMAC, path string) (Validator, error) {
	if c.PublicURL != "" && c.Preset != "twilio" {
		return nil, fmt.Errorf("%s.public_url: only used by preset twilio; remove it", path)
	}
	switch c.Preset {
	case "gitlab":
		return newGitLab(c, path)
	case "twilio":
		return newTwilio(c, path)
	}
	return newHMAC(c, path)
}

// DedupKeyDefault is the dedup key spec of the first preset that has one
// ("header:X-GitHub-Delivery", "body:id", "header:webhook-id", ...; "" for
// none), SPEC §5 table.
func DedupKeyDefault(pp []configs.PreProcessor) string {
	for _, p := range pp {
		if p.HMAC == nil || p.HMAC.Preset == "" {
			continue
		}
		if pr, ok := presetByName(p.HMAC.Preset); ok && pr.dedup != "" {
			return pr.dedup
		}
	}
	return ""
}
