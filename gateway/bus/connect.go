package bus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/nats-io/nats.go"

	"github.com/hookgate/hookgate/configs"
)

// connectExternal starts connecting to cfg.URL with the configured
// credentials and returns at once: an unreachable NATS is retried in the
// background (SPEC §13, hookgate may start before it), one log line per
// failed attempt, until WaitReady sees the connection.
func (b *Bus) connectExternal(cfg configs.NATS, opts []nats.Option) error {
	auth, err := authOptions(cfg)
	if err != nil {
		return err
	}
	opts = append(opts, nats.RetryOnFailedConnect(true))
	nc, err := nats.Connect(cfg.URL, append(opts, auth...)...)
	if err != nil {
		return fmt.Errorf("%w: connect to %s: %w; check nats.url and its credentials", ErrUnavailable, configs.RedactURLs(cfg.URL), err)
	}
	b.nc = nc
	return nil
}

// reconnectDelay is the wait after a whole round of servers failed:
// 1s, 2s, 4s, then 5s.
func reconnectDelay(round int) time.Duration {
	if round > 3 {
		return maxReconnectWait
	}
	return min(reconnectWait<<max(round-1, 0), maxReconnectWait)
}

// onAttemptFailed logs one failed connection attempt, and gives up on a
// connection the server refused for its credentials or TLS: retrying
// cannot help, and serve must end with the error (SPEC §13).
func (b *Bus) onAttemptFailed(nc *nats.Conn, err error) {
	b.lastErr.Store(&err)
	if refusedByServer(err) {
		select {
		case b.refused <- err:
		default:
		}
		go nc.Close() // not from inside the connection's own callback
		return
	}
	b.log.Warn("nats not reachable; retrying",
		zap.Int64("attempt", b.attempts.Add(1)), zap.String("url", configs.RedactURLs(b.cfg.URL)), zap.Error(err))
}

// refusedByServer reports whether err is a refusal that a retry with the
// same configuration cannot change: credentials or TLS.
func refusedByServer(err error) bool {
	for _, e := range []error{nats.ErrAuthorization, nats.ErrAuthExpired, nats.ErrAuthRevoked,
		nats.ErrAccountAuthExpired, nats.ErrSecureConnRequired, nats.ErrSecureConnWanted} {
		if errors.Is(err, e) {
			return true
		}
	}
	var (
		verify    *tls.CertificateVerificationError
		alert     tls.AlertError
		header    tls.RecordHeaderError
		authority x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &alert) || errors.As(err, &header) ||
		errors.As(err, &authority) || errors.As(err, &hostname) || errors.As(err, &invalid)
}

// readyPoll is how often WaitReady looks at the connection's last error,
// where nats.go leaves a refusal found after the socket opened.
const readyPoll = 250 * time.Millisecond

// WaitReady waits until the Bus is connected, then creates or updates the
// streams; at once when it is ready already. It fails when the server
// refuses the connection's credentials or TLS, when nats.connect_timeout
// (cfg.ConnectTimeout, 0 = no limit) passes first, or when ctx ends; the
// error wraps ErrUnavailable and names no secret. Close the Bus after a
// failure.
func (b *Bus) WaitReady(ctx context.Context) error {
	b.readyOnce.Lock()
	defer b.readyOnce.Unlock()
	if b.ready.Load() {
		return nil
	}
	if err := b.waitConnected(ctx); err != nil {
		return err
	}
	if err := ensureStreams(ctx, b.js, b.cfg); err != nil {
		return err
	}
	b.ready.Store(true)
	if b.srv == nil {
		b.log.Info("nats connected", zap.String("url", b.nc.ConnectedUrlRedacted()))
	}
	return nil
}

// refusedErr is the error of a connection the server refused.
func (b *Bus) refusedErr(err error) error {
	return fmt.Errorf("%w: connect to %s: %w; check nats.url and its credentials or TLS settings", ErrUnavailable, configs.RedactURLs(b.cfg.URL), err)
}

func (b *Bus) waitConnected(ctx context.Context) error {
	where := configs.RedactURLs(b.cfg.URL)
	var timeout <-chan time.Time
	if t := b.cfg.ConnectTimeout; t > 0 && b.srv == nil {
		timer := time.NewTimer(t)
		defer timer.Stop()
		timeout = timer.C
	}
	poll := time.NewTicker(readyPoll)
	defer poll.Stop()
	refused := b.refusedErr
	connected := b.connected
	for {
		if b.nc.IsConnected() {
			return nil
		}
		select {
		case <-connected:
			connected = nil // seen; a drop right after is waited out below
		case err := <-b.refused:
			return refused(err)
		case <-b.closed:
			select {
			case err := <-b.refused: // closed because of it
				return refused(err)
			default:
			}
			err := b.nc.LastError()
			if p := b.lastErr.Load(); p != nil && (err == nil || errors.Is(err, nats.ErrNoServers)) {
				err = *p
			}
			if err == nil {
				err = nats.ErrConnectionClosed
			}
			return refused(err)
		case <-poll.C:
			if err := b.nc.LastError(); err != nil && refusedByServer(err) {
				b.nc.Close()
				return refused(err)
			}
		case <-timeout:
			last := "none"
			if p := b.lastErr.Load(); p != nil {
				last = (*p).Error()
			}
			return fmt.Errorf("%w: %s not reachable within nats.connect_timeout %s (%d attempts, last error: %s); start NATS, check nats.url, or raise nats.connect_timeout (0 waits for ever)",
				ErrUnavailable, where, b.cfg.ConnectTimeout, b.attempts.Load(), last)
		case <-ctx.Done():
			return fmt.Errorf("%w: connect to %s: %w", ErrUnavailable, where, ctx.Err())
		}
	}
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
