package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/nats-io/nats.go"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/gateway/bus"
)

func cmdTail(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("tail", flag.ContinueOnError)
	url := fs.String("nats", nats.DefaultURL, "NATS server URL; with nats.embedded.auth, nats://TOKEN@host:4222 or nats://USER:PASSWORD@host:4222")
	positional, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(positional) != 1 {
		return fmt.Errorf("%w: tail needs SUBJECT (e.g. tasks.>)", errUsage)
	}
	nc, err := nats.Connect(*url, nats.Name("hookgate tail"))
	if err != nil {
		return fmt.Errorf("connect %s: %w", configs.RedactURLs(*url), err) // the URL may carry nats.embedded.auth
	}
	defer nc.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return bus.Tail(ctx, nc, positional[0], stdout)
}
