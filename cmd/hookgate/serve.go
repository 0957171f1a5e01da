package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/admin"
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
	cfg, err := configs.Load(*path)
	if err != nil {
		printProblems(stderr, err)
		return errReported
	}
	log, err := newLogger(cfg.Log, stderr)
	if err != nil {
		return err
	}
	defer func() { _ = log.Sync() }()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	b, err := bus.Open(ctx, cfg.NATS, log.Named("nats"))
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	rt, err := gateway.Build(cfg)
	if err != nil {
		closeCtx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
		defer cancel()
		_ = b.Close(closeCtx)
		return errors.New(cfg.Redact(err.Error())) // a validator's error may quote a value
	}
	pm, err := newProcessMetrics()
	if err != nil {
		closeCtx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
		defer cancel()
		_ = b.Close(closeCtx)
		return err
	}
	srv := gateway.New(rt, b, log.Named("gateway"))
	srv.SetMetrics(pm.gateway)
	// The request log and the delivery-attempt log (SPEC §9), one writer
	// each for the process, so that their drops can be counted across reloads.
	reqlog := bus.NewLogWriter(b.JetStream(), 0, log.Named("requestlog"))
	defer closeLog(reqlog, cfg.Server.ShutdownTimeout, log)
	srv.SetRequestLog(reqlog)
	attempts := bus.NewLogWriter(b.JetStream(), 0, log.Named("attempts"))
	defer closeLog(attempts, cfg.Server.ShutdownTimeout, log)
	if err := pm.countLogs(map[string]*bus.LogWriter{"requests": reqlog, "deliveries": attempts}); err != nil {
		return err
	}
	rl := &reloader{path: *path, srv: srv, metrics: pm.gateway, log: log}
	routes, err := startRouter(ctx, cfg, b, log, pm.router, attempts)
	if err != nil {
		closeCtx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
		defer cancel()
		_ = b.Close(closeCtx)
		return err
	}
	rl.routes = routes // reloads replace the router too (SPEC §8)

	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("server.listen %q: %w", cfg.Server.Listen, err)
	}
	adm, admLn, err := listenAdmin(cfg, srv, b, pm, rl, log)
	if err != nil {
		ln.Close()
		return err
	}
	adminAddr := ""
	if admLn != nil {
		adminAddr = admLn.Addr().String()
	}
	log.Info("hookgate started",
		zap.String("version", version),
		zap.String("listen", ln.Addr().String()),
		zap.String("nats", b.ClientURL()),
		zap.String("admin", adminAddr),
		zap.Int("webhooks", len(cfg.Webhooks)),
	)
	served := make(chan error, 2)
	go func() { served <- srv.Serve(ln) }()
	if adm != nil {
		go func() {
			if err := adm.Serve(admLn); err != nil {
				served <- fmt.Errorf("admin: %w", err)
			}
		}()
	}

	reloads := make(chan string, 1)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	if *watch {
		stopWatch, err := watchConfig(*path, reloads, log)
		if err != nil {
			return err
		}
		defer stopWatch()
	}

	for {
		select {
		case err := <-served:
			return err
		case <-hup:
			_ = rl.reload("SIGHUP") // logged; the old config keeps serving
		case why := <-reloads:
			_ = rl.reload(why)
		case <-ctx.Done():
			return shutdown(srv, adm, routes, attempts, b, cfg.Server.ShutdownTimeout, log)
		}
	}
}

// shutdown stops accepting, lets requests and deliveries under way finish
// (up to timeout), drains NATS and stops the embedded server. The admin
// listener stops with the gateway.
func shutdown(srv *gateway.Server, adm *admin.Server, routes stopper, attempts *bus.LogWriter, b *bus.Bus, timeout time.Duration, log *zap.Logger) error {
	log.Info("shutting down", zap.Duration("timeout", timeout))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("requests still in flight at shutdown timeout", zap.Error(err))
	}
	if adm != nil {
		if err := adm.Shutdown(ctx); err != nil {
			log.Warn("admin requests still in flight at shutdown timeout", zap.Error(err))
		}
	}
	if routes != nil {
		if err := routes.Stop(ctx); err != nil {
			log.Warn("deliveries still under way at shutdown timeout", zap.Error(err))
		}
	}
	// After the deliveries, before NATS closes: their last attempts are logged.
	if err := attempts.Close(ctx); err != nil {
		log.Warn("delivery attempt log not flushed", zap.Error(err))
	}
	if err := b.Close(ctx); err != nil {
		log.Warn("nats close", zap.Error(err))
	}
	log.Info("stopped")
	return nil
}

// closeLog ends a log writer's goroutine on the paths that return before
// shutdown (which flushes both: the request log through srv.Shutdown).
func closeLog(w *bus.LogWriter, timeout time.Duration, log *zap.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := w.Close(ctx); err != nil {
		log.Warn("log not flushed", zap.Error(err))
	}
}

type stopper interface {
	Stop(ctx context.Context) error
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
