package bus

import (
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/hookgate/hookgate/configs"
)

// connectExternal connects to cfg.URL with the configured credentials.
// Errors name the servers with their passwords redacted, never a secret.
func (b *Bus) connectExternal(cfg configs.NATS, opts []nats.Option) error {
	auth, err := authOptions(cfg)
	if err != nil {
		return err
	}
	nc, err := nats.Connect(cfg.URL, append(opts, auth...)...)
	if err != nil {
		return fmt.Errorf("%w: connect to %s: %w; check nats.url and its credentials", ErrUnavailable, configs.RedactURLs(cfg.URL), err)
	}
	b.nc = nc
	return nil
}

// authOptions turns creds_file, user/password, token, nkey_file and tls
// into connection options. Files are read now, so a wrong path is an error
// at start rather than on the first reconnect.
func authOptions(cfg configs.NATS) ([]nats.Option, error) {
	var opts []nats.Option
	if cfg.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(cfg.CredsFile))
	}
	if cfg.User != "" {
		opts = append(opts, nats.UserInfo(cfg.User, cfg.Password))
	}
	if cfg.Token != "" {
		opts = append(opts, nats.Token(cfg.Token))
	}
	if cfg.NKeyFile != "" {
		o, err := nats.NkeyOptionFromSeed(cfg.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("nats.nkey_file: cannot use %q: %w; give a file holding an nkey user seed (SU...)", cfg.NKeyFile, err)
		}
		opts = append(opts, o)
	}
	if cfg.TLS.CAFile != "" {
		opts = append(opts, nats.RootCAs(cfg.TLS.CAFile))
	}
	if (cfg.TLS.CertFile == "") != (cfg.TLS.KeyFile == "") {
		return nil, fmt.Errorf("nats.tls: cert_file and key_file go together; set both or neither")
	}
	if cfg.TLS.CertFile != "" {
		opts = append(opts, nats.ClientCert(cfg.TLS.CertFile, cfg.TLS.KeyFile))
	}
	return opts, nil
}
