// Command hookgate is the inbound webhook gateway: serve, validate, send,
// tail and version (SPEC §1).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

const usage = `usage: hookgate <command> [flags]

commands:
  serve -c PATH [--watch]         run the gateway, the router and (nats.url "") an embedded NATS server
  validate -c PATH                check a configuration
  send IDENTIFIER -c PATH --file F [--url URL] [--content-type T]
                                  post F to a running gateway, signed as the webhook expects
  tail SUBJECT [--nats URL]       print tasks as they arrive
  version                         print the version
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// errUsage marks a command line that could not be understood (exit 2).
var errUsage = errors.New("usage")

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		err = cmdServe(rest, stderr)
	case "validate":
		err = cmdValidate(rest, stdout, stderr)
	case "send":
		err = cmdSend(rest, stdout)
	case "tail":
		err = cmdTail(rest, stdout)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "hookgate %s\n", version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "hookgate: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "hookgate: %v\n\n%s", err, usage)
		return 2
	case errors.Is(err, errReported):
		return 1
	default:
		fmt.Fprintf(stderr, "hookgate: %v\n", err)
		return 1
	}
}

// errReported means the command already printed what went wrong.
var errReported = errors.New("reported")

// parseArgs parses flags that may come before, between or after the
// positional arguments (`send erp -c x --file y` and `send -c x erp`).
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}
