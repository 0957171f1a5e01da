package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/bus"
)

func cmdServe(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	path := fs.String("c", "", "config file or directory")
	watch := fs.Bool("watch", false, "reload when the config changes")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	if *path == "" {
		return fmt.Errorf("%w: serve needs -c PATH", errUsage)
	}
	cfg, err := loadConfig(*path, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg.Log, stderr)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()
	s := newServing(*path, cfg, log)
	return s.run(context.Background(), serveSteps(*watch))
}

// serving is one run of serve: the configuration, the parts the steps
// have built so far, and the lifecycle that stops them.
type serving struct {
	path  string
	cfg   *configs.Config
	log   *zap.Logger
	parts lifecycle

	ctx     context.Context  // ends at SIGINT or SIGTERM (the signals step)
	hup     <-chan os.Signal // SIGHUP: reload
	reloads chan string      // --watch: reload
	served  chan error       // a listener that stopped serving by itself

	bus      *bus.Bus
	metrics  *processMetrics
	srv      *gateway.Server
	reload   *reloader
	reqlog   *bus.LogWriter
	attempts *bus.LogWriter
	// underListeners is the lifecycle mark below the listeners, where the
	// parts started after them register their stops.
	underListeners int
	listen         net.Addr // the public listener, once bound
	admin          net.Addr // the admin listener, once bound (nil: admin.listen "")

	tracing *gateway.Exporter // nil: no spans exported
}

func newServing(path string, cfg *configs.Config, log *zap.Logger) *serving {
	return &serving{
		path:    path,
		cfg:     cfg,
		log:     log,
		parts:   lifecycle{log: log},
		reloads: make(chan string, 1),
		served:  make(chan error, 2),
	}
}

// run starts the steps in order, then serves until ctx ends or a signal
// stops it (exit 0) or a listener fails. Whatever ends it, what has started
// is stopped in reverse order within server.shutdown_timeout; a step that
// fails is returned, masked with the config's secrets.
func (s *serving) run(ctx context.Context, steps []step) error {
	s.ctx = ctx
	for _, st := range steps {
		if err := st.start(s); err != nil {
			signalled := s.ctx.Err() != nil // before stop ends s.ctx
			_ = s.stop()                    // failures are logged
			if signalled {
				// A signal while starting (waiting for NATS): a clean stop.
				s.log.Info("stopped before serving", zap.String("step", st.name))
				return nil
			}
			// A validator, the router or NATS may quote a configured value.
			return errors.New(s.cfg.Redact(err.Error()))
		}
	}
	adminAddr := ""
	if s.admin != nil {
		adminAddr = s.admin.String()
	}
	s.log.Info("hookgate started",
		zap.String("version", version),
		zap.String("listen", s.listen.String()),
		zap.String("nats", s.bus.ClientURL()),
		zap.String("admin", adminAddr),
		zap.Int("webhooks", len(s.cfg.Webhooks)),
		zap.String("memory_limit", memoryLimit()),
	)
	for {
		select {
		case err := <-s.served:
			_ = s.stop()
			return err
		case <-s.hup:
			_ = s.reload.reload("SIGHUP") // logged; the old config keeps serving
		case why := <-s.reloads:
			_ = s.reload.reload(why)
		case <-s.ctx.Done():
			s.log.Info("shutting down", zap.Duration("timeout", s.cfg.Server.ShutdownTimeout))
			_ = s.stop()
			s.log.Info("stopped")
			return nil
		}
	}
}

// stop stops every part started, in reverse, within server.shutdown_timeout;
// each one that does not stop cleanly is logged.
func (s *serving) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.Server.ShutdownTimeout)
	defer cancel()
	return s.parts.stopAll(ctx)
}

func newLogger(cfg configs.Log, w io.Writer) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(cfg.Level)
	if err != nil {
		return nil, fmt.Errorf("log.level %q: use debug, info, warn or error", cfg.Level)
	}
	enc := zap.NewProductionEncoderConfig()
	enc.EncodeTime = zapcore.ISO8601TimeEncoder
	var encoder zapcore.Encoder
	if cfg.Format == "console" {
		encoder = zapcore.NewConsoleEncoder(enc)
	} else {
		encoder = zapcore.NewJSONEncoder(enc)
	}
	core := zapcore.NewCore(encoder, zapcore.Lock(zapcore.AddSync(w)), level)
	return zap.New(core), nil
}
