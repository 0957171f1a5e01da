package bus

import (
	"context"
	"fmt"
	"math"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"go.uber.org/zap"

	"github.com/hookgate/hookgate/configs"
)

// embeddedStartTimeout bounds the server's start when ctx has no deadline.
const embeddedStartTimeout = 30 * time.Second

// startEmbedded runs a JetStream-enabled nats-server inside the process and
// connects to it in-process (no socket); other clients use cfg.Listen.
func (b *Bus) startEmbedded(ctx context.Context, cfg configs.Embedded, opts []nats.Option) error {
	sopts, err := serverOptions(cfg)
	if err != nil {
		return err
	}
	srv, err := server.NewServer(sopts)
	if err != nil {
		return fmt.Errorf("nats.embedded: %w", err)
	}
	fatal := make(chan string, 1)
	// The server logs as the Bus does: the caller named that logger already.
	srv.SetLogger(&serverLogger{log: b.log.Sugar(), fatal: fatal},
		b.log.Core().Enabled(zap.DebugLevel), false) // traces would log message bodies

	go srv.Start()
	if err := waitReady(ctx, srv, fatal); err != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
		return err
	}

	url := ""
	if !sopts.DontListen {
		url = srv.ClientURL()
	}
	// hookgate's own connection skips the socket even when the server
	// listens for others: measured about twice as fast per single task.
	// The server checks in-process clients too, so it presents the auth.
	opts = append(opts, nats.InProcessServer(srv))
	opts = append(opts, embeddedAuthOptions(cfg.Auth)...)
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
		return fmt.Errorf("%w: connect to embedded nats server: %w", ErrUnavailable, err)
	}
	b.nc, b.srv, b.clientURL = nc, srv, url
	b.log.Info("embedded nats server ready",
		zap.String("client_url", url), zap.Bool("in_process_only", sopts.DontListen),
		zap.Bool("auth", sopts.Authorization != "" || sopts.Username != ""),
		zap.String("store_dir", sopts.StoreDir), zap.Int32("max_payload", sopts.MaxPayload),
		zap.Bool("sync_always", sopts.SyncAlways))
	return nil
}

// serverOptions translates the embedded config into nats-server options.
func serverOptions(cfg configs.Embedded) (*server.Options, error) {
	if cfg.MaxPayload <= 0 || cfg.MaxPayload > math.MaxInt32 {
		return nil, fmt.Errorf("nats.embedded.max_payload: %d bytes is out of range; use 1B to 2GiB (8MiB is usual)", cfg.MaxPayload)
	}
	o := &server.Options{
		ServerName: "hookgate",
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		MaxPayload: int32(cfg.MaxPayload),
		NoSigs:     true, // hookgate owns the process's signals
	}
	// nats.embedded.sync: always fsyncs each write before the ack, so a
	// 200 survives a power loss; the default leaves it to the OS page
	// cache and nats-server's interval (a process crash loses nothing).
	o.SyncAlways = cfg.Sync == configs.SyncAlways
	// nats.embedded.auth (SPEC §11): every client, hookgate's own included,
	// must present it. configs refuses both forms together.
	o.Authorization = cfg.Auth.Token
	o.Username, o.Password = cfg.Auth.User, cfg.Auth.Password
	// The server refuses a payload above its per-client pending limit.
	if int64(cfg.MaxPayload) > server.MAX_PENDING_SIZE {
		o.MaxPending = int64(cfg.MaxPayload)
	}
	if cfg.Listen == "" {
		o.DontListen = true
		return o, nil
	}
	host, port, err := parseListen(cfg.Listen)
	if err != nil {
		return nil, err
	}
	o.Host, o.Port = host, port
	return o, nil
}

// embeddedAuthOptions presents nats.embedded.auth to the embedded server.
func embeddedAuthOptions(a configs.EmbeddedAuth) []nats.Option {
	switch {
	case a.Token != "":
		return []nats.Option{nats.Token(a.Token)}
	case a.User != "":
		return []nats.Option{nats.UserInfo(a.User, a.Password)}
	}
	return nil
}

// parseListen splits "host:port"; port 0 asks for a free port (tests).
func parseListen(listen string) (string, int, error) {
	host, p, err := net.SplitHostPort(listen)
	if err != nil {
		return "", 0, fmt.Errorf("nats.embedded.listen: %q is not host:port (%v); use e.g. 127.0.0.1:4222, or \"\" for in-process only", listen, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("nats.embedded.listen: port %q of %q is not a number from 0 to 65535; use e.g. 127.0.0.1:4222", p, listen)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return host, port, nil
}

// waitReady waits for the server to accept clients, and fails early when it
// reported a fatal error (port in use, store dir not writable) instead of
// waiting out the whole timeout.
func waitReady(ctx context.Context, srv *server.Server, fatal <-chan string) error {
	deadline := time.Now().Add(embeddedStartTimeout)
	if d, ok := ctx.Deadline(); ok {
		deadline = d
	}
	for {
		// A step above 25ms makes ReadyForConnections sleep between checks.
		if srv.ReadyForConnections(100 * time.Millisecond) {
			return nil
		}
		select {
		case msg := <-fatal:
			return fmt.Errorf("%w: embedded nats server did not start: %s; check nats.embedded.listen and nats.embedded.store_dir", ErrUnavailable, msg)
		default:
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%w: embedded nats server not ready: %w", ErrUnavailable, err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: embedded nats server not ready in time; check nats.embedded.listen and nats.embedded.store_dir", ErrUnavailable)
		}
	}
}

// serverLogger sends nats-server's log lines to zap. A server "fatal" is
// logged as an error and reported to waitReady; it must not exit the process.
type serverLogger struct {
	log   *zap.SugaredLogger
	fatal chan<- string
}

var _ server.Logger = (*serverLogger)(nil)

func (l *serverLogger) Noticef(format string, v ...any) { l.log.Infof(format, v...) }
func (l *serverLogger) Warnf(format string, v ...any)   { l.log.Warnf(format, v...) }
func (l *serverLogger) Errorf(format string, v ...any)  { l.log.Errorf(format, v...) }
func (l *serverLogger) Debugf(format string, v ...any)  { l.log.Debugf(format, v...) }
func (l *serverLogger) Tracef(format string, v ...any)  { l.log.Debugf(format, v...) }

func (l *serverLogger) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.log.Error(msg)
	select {
	case l.fatal <- msg:
	default: // the first fatal is the one worth reporting
	}
}
