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
	cfg, err := configs.Load(*path)
	if err != nil {
		printProblems(stderr, err)
		return errReported
	}
	fmt.Fprintln(stdout, cfg.Summary())
	return nil
}

// printProblems writes one line per configuration problem.
func printProblems(w io.Writer, err error) {
	var problems configs.Problems
	if errors.As(err, &problems) {
		for _, p := range problems {
			fmt.Fprintln(w, p.String())
		}
		return
	}
	fmt.Fprintln(w, err)
}
