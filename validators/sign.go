package validators

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/hookgate/hookgate/configs"
)

// Sign sets on h every header the validators in pp check, so that a request
// with this method, URL, headers and body passes Build(pp) (used by
// `hookgate send`). Twilio uses its public_url and form params. Schemes with
// a message id reuse the one already in h, else get a fresh UUID; schemes
// with a timestamp use now. ip_allowlist has nothing to sign.
func Sign(pp []configs.PreProcessor, method, rawURL string, h http.Header, body []byte, now time.Time) error {
	chain, err := Build(pp)
	if err != nil {
		return err
	}
	for i, v := range chain {
		switch v := v.(type) {
		case *tokenValidator:
			v.sign(h)
		case *basicAuthValidator:
			v.sign(h)
		case *hmacValidator:
			id := ""
			if v.idKey != "" {
				if id = firstHeader(h, v.idKey); id == "" {
					id = "msg_" + uuid.NewString()
				}
			}
			v.sign(h, body, id, now)
		case *twilioValidator:
			if err := v.sign(h, rawURL, body); err != nil {
				return fmt.Errorf("pre_processors[%d].hmac: %w", i, err)
			}
		}
	}
	return nil
}

// SignOutgoing signs an outgoing delivery with cfg (the presets that
// configs.OutgoingPresetNames lists, or the generic keys), id being the
// message id (the task's ce-id). Used by the router. Every preset but twilio
// works (it signs a URL and form the router does not send).
func SignOutgoing(cfg configs.HMAC, h http.Header, body []byte, id string, now time.Time) error {
	v, err := buildHMAC(cfg, "signing")
	if err != nil {
		return err
	}
	switch v := v.(type) {
	case *hmacValidator:
		v.sign(h, body, id, now)
	case *tokenValidator:
		v.sign(h)
	default:
		return fmt.Errorf("signing.preset: %q cannot sign outgoing deliveries; use %s or the generic keys", cfg.Preset, strings.Join(configs.OutgoingPresetNames(), ", "))
	}
	return nil
}
