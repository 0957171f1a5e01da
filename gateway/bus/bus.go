// Package bus is hookgate's door to NATS: it starts the embedded
// nats-server or connects to an external one, keeps the connection alive,
// creates the JetStream streams of SPEC §2/§6/§9, and publishes a request's
// tasks asynchronously, answering only after every acknowledgement (§8).
// It also holds the wire contract (wire.go): every stream, subject,
// consumer and header name, and the log entries. The gateway publishes
// through the Bus; the router consumes and the admin listener reads the
// streams through the jetstream.JetStream it hands out (JetStream). They
// import nats.go for its types but spell no NATS name of their own.
package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/hookgate/hookgate/configs"
)

// ErrUnavailable is wrapped in every error that means "NATS is unavailable
// or did not acknowledge in time"; the gateway answers those with 503 and
// Retry-After, so the sender retries.
var ErrUnavailable = errors.New("nats unavailable")

const (
	// maxInFlight bounds unacknowledged publishes process-wide; beyond it
	// Batch.Add blocks until acks free a slot (or its context ends).
	maxInFlight = 8192
	// reconnectWait is the first wait between attempts, doubling up to
	// maxReconnectWait: short because a gateway answers 503 meanwhile.
	reconnectWait    = time.Second
	maxReconnectWait = 5 * time.Second
)

// Bus is a live NATS connection with JetStream, and the embedded server
// behind it when there is one. It is safe for concurrent use.
type Bus struct {
	log       *zap.Logger
	nc        *nats.Conn
	js        jetstream.JetStream
	srv       *server.Server // nil when connected to an external NATS
	clientURL string
	cfg       configs.NATS
	closed    chan struct{} // closed by the connection's ClosedHandler

	// The first connection (connect.go): connected is closed by the
	// ConnectHandler, refused gets the error of a connection the server
	// refused for its credentials or TLS, attempts counts the failed ones.
	connected chan struct{}
	refused   chan error
	attempts  atomic.Int64
	lastErr   atomic.Pointer[error]
	ready     atomic.Bool // connected once and the streams made
	readyOnce sync.Mutex  // one WaitReady makes the streams at a time

	// Batch tasks awaiting their ack, by the sequence number that ends
	// their reply subject (ackPrefix + base 36).
	ackPrefix      string
	mu             sync.Mutex
	ackSeq         uint64
	inflight       map[uint64]pendingAck
	slots          chan struct{} // one per task in flight, at most maxInFlight
	publishTimeout atomic.Int64  // a time.Duration
	stopExpiry     chan struct{}
	expiryDone     chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// Open starts the embedded server when cfg.URL is empty (JetStream, file
// storage in cfg.Embedded.StoreDir, listening on cfg.Embedded.Listen, or
// in-process only when that is ""), otherwise connects to cfg.URL
// (comma-separated servers) with the configured credentials and TLS,
// waiting for it as WaitReady does. The connection reconnects forever,
// logging each disconnect, failed attempt and reconnect. Open then creates
// or updates the task, dead-letter and log streams. ctx bounds the start,
// not the life of the Bus; end it with Close.
func Open(ctx context.Context, cfg configs.NATS, log *zap.Logger) (*Bus, error) {
	b, err := Start(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	if err := b.WaitReady(ctx); err != nil {
		b.closeAfterFailure(ctx)
		return nil, err
	}
	return b, nil
}

// Start is Open without waiting for an external NATS: the Bus it returns
// is connecting in the background (Ready is false, publishes fail with
// ErrUnavailable) until WaitReady has seen it connect and made the
// streams. The embedded server is started, and the streams made, before
// Start returns.
func Start(ctx context.Context, cfg configs.NATS, log *zap.Logger) (*Bus, error) {
	if log == nil {
		log = zap.NewNop()
	}
	// A config built in code (tests, tools) behaves like a loaded one.
	cfg = cfg.WithDefaults()
	b := &Bus{
		log:        log,
		cfg:        cfg,
		closed:     make(chan struct{}),
		connected:  make(chan struct{}),
		refused:    make(chan error, 1),
		inflight:   make(map[uint64]pendingAck),
		slots:      make(chan struct{}, maxInFlight),
		stopExpiry: make(chan struct{}),
		expiryDone: make(chan struct{}),
	}
	b.publishTimeout.Store(int64(cfg.PublishTimeout))
	opts := b.connOptions()

	var err error
	if cfg.URL == "" {
		err = b.startEmbedded(ctx, cfg.Embedded, opts)
	} else {
		err = b.connectExternal(cfg, opts)
	}
	if err != nil {
		return nil, err
	}

	go func() {
		defer close(b.expiryDone)
		// Every publish resolves by itself after PublishTimeout, so an
		// abandoned Wait never leaves slots or entries taken forever.
		b.expireAcks(b.stopExpiry)
	}()
	b.ackPrefix = b.nc.NewInbox() + "."
	if _, err = b.nc.Subscribe(b.ackPrefix+"*", b.onAck); err != nil {
		err = fmt.Errorf("subscribe to the ack inbox %s*: %w", b.ackPrefix, err)
	}
	if err == nil {
		// Log entries are published with futures; a future no ack
		// resolves must still end, or it would hold a slot for good.
		b.js, err = jetstream.New(b.nc, jetstream.WithPublishAsyncTimeout(cfg.PublishTimeout))
	}
	if err == nil && cfg.URL == "" {
		err = b.WaitReady(ctx)
	}
	if err != nil && cfg.URL != "" {
		// A refusal may have closed the connection under the subscribe.
		select {
		case rerr := <-b.refused:
			err = b.refusedErr(rerr)
		default:
		}
	}
	if err != nil {
		b.closeAfterFailure(ctx)
		return nil, err
	}
	return b, nil
}

// closeAfterFailure closes a Bus that did not start, within 5s.
func (b *Bus) closeAfterFailure(ctx context.Context) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = b.Close(cctx)
}

// connOptions are shared by embedded and external connections: reconnect
// forever and say so in the log, so an operator sees why /readyz fails.
func (b *Bus) connOptions() []nats.Option {
	log := b.log
	return []nats.Option{
		nats.Name("hookgate"),
		nats.MaxReconnects(-1),
		nats.CustomReconnectDelay(reconnectDelay),
		nats.ConnectHandler(func(*nats.Conn) { close(b.connected) }),
		nats.ReconnectErrHandler(b.onAttemptFailed),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			// An ack sent on the lost connection never arrives: answer now.
			b.failPending(everyTask, nats.ErrDisconnected)
			if nc.IsClosed() || nc.IsDraining() {
				return // our own Close, not an outage
			}
			log.Warn("nats disconnected; reconnecting", zap.Error(err))
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.attempts.Store(0)
			log.Info("nats reconnected", zap.String("url", nc.ConnectedUrlRedacted()))
		}),
		nats.ClosedHandler(func(*nats.Conn) {
			log.Info("nats connection closed")
			b.failPending(everyTask, nats.ErrConnectionClosed)
			close(b.closed)
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			fields := []zap.Field{zap.Error(err)}
			if sub != nil {
				fields = append(fields, zap.String("subject", sub.Subject))
			}
			log.Error("nats asynchronous error", fields...)
		}),
	}
}

// Conn returns the underlying connection, for core NATS subscriptions.
func (b *Bus) Conn() *nats.Conn { return b.nc }

// JetStream returns the JetStream handle the Bus manages streams with; the
// router builds its consumers from it.
func (b *Bus) JetStream() jetstream.JetStream { return b.js }

// MaxPayload returns the largest message (headers plus body) the server
// accepts, as announced by the server.
func (b *Bus) MaxPayload() int64 { return b.nc.MaxPayload() }

// Ready reports whether the connection is up right now and the streams are
// made (for /readyz, and to answer 503 before reading a body).
func (b *Bus) Ready() bool { return b.ready.Load() && b.nc.IsConnected() }

// ClientURL returns where another client (`nats sub`, `hookgate tail`) can
// connect: the embedded server's listen address, "" when it is in-process
// only, or the external server currently connected, its password redacted.
func (b *Bus) ClientURL() string {
	if b.srv != nil {
		return b.clientURL
	}
	return b.nc.ConnectedUrlRedacted()
}

// Close drains the connection (subscriptions finish the messages they hold,
// queued publishes are flushed) and then shuts the embedded server down.
// It does not wait for acks: Wait for every Batch first. When ctx ends
// before the drain, the connection is closed at once and ctx's error is
// returned. Close may be called again; later calls return the first result.
func (b *Bus) Close(ctx context.Context) error {
	b.closeOnce.Do(func() { b.closeErr = b.close(ctx) })
	return b.closeErr
}

func (b *Bus) close(ctx context.Context) error {
	var err error
	if b.nc != nil {
		if derr := b.nc.Drain(); derr != nil && !errors.Is(derr, nats.ErrConnectionClosed) {
			b.nc.Close()
		}
		select {
		case <-b.closed:
		case <-ctx.Done():
			b.nc.Close()
			<-b.closed
			err = fmt.Errorf("close nats: drain not finished: %w", ctx.Err())
		}
	}
	if b.srv != nil {
		b.srv.Shutdown()
		b.srv.WaitForShutdown()
	}
	close(b.stopExpiry)
	<-b.expiryDone
	return err
}

func everyTask(pendingAck) bool { return true }
