package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/hookgate/hookgate/configs"
)

func cmdValidate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	path := fs.String("c", "", "config file or directory")
	if _, err := parseArgs(fs, args); err != nil {
		return err
	}
	if *path == "" {
		return fmt.Errorf("%w: validate needs -c PATH", errUsage)
	}
	cfg, err := loadConfig(*path, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, cfg.Summary())
	return nil
}

// loadConfig loads the configuration at path. When it cannot, it writes
// one line per problem to w and returns errReported.
func loadConfig(path string, w io.Writer) (*configs.Config, error) {
	cfg, err := configs.Load(path)
	if err == nil {
		return cfg, nil
	}
	var problems configs.Problems
	if errors.As(err, &problems) {
		for _, p := range problems {
			fmt.Fprintln(w, p.String())
		}
	} else {
		fmt.Fprintln(w, err)
	}
	return nil, errReported
}
