package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hookgate/hookgate/configs"
	"github.com/hookgate/hookgate/validators"
)

func cmdSend(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	path := fs.String("c", "", "config file or directory")
	file := fs.String("file", "", "the body to send")
	target := fs.String("url", "", "gateway URL (default: from server.listen)")
	contentType := fs.String("content-type", "", "Content-Type (default: from the file's extension)")
	positional, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(positional) != 1 || *path == "" || *file == "" {
		return fmt.Errorf("%w: send needs IDENTIFIER, -c PATH and --file F", errUsage)
	}
	identifier := positional[0]
	cfg, err := configs.Load(*path)
	if err != nil {
		return fmt.Errorf("config %s: %w", *path, err)
	}
	var wh *configs.Webhook
	var known []string
	for i := range cfg.Webhooks {
		known = append(known, cfg.Webhooks[i].Identifier)
		if cfg.Webhooks[i].Identifier == identifier {
			wh = &cfg.Webhooks[i]
		}
	}
	if wh == nil {
		return fmt.Errorf("webhook %q is not defined in %s; defined: %s", identifier, *path, strings.Join(known, ", "))
	}
	body, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	url := *target
	if url == "" {
		url = gatewayURL(cfg.Server.Listen) + "/webhooks/" + identifier
	}
	method := http.MethodPost
	if len(wh.Methods) > 0 {
		method = wh.Methods[0]
	}
	ct := *contentType
	if ct == "" {
		ct = contentTypeOf(*file)
	}
	h := http.Header{}
	h.Set("Content-Type", ct)
	h.Set("User-Agent", "hookgate-send/"+version)
	if err := validators.Sign(wh.PreProcessors, method, url, h, body, time.Now()); err != nil {
		return fmt.Errorf("sign for %s: %w", identifier, err)
	}
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = h
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	fmt.Fprintf(stdout, "%s\n%s\n", resp.Status, bytes.TrimSpace(out))
	if resp.StatusCode >= 300 {
		return errReported
	}
	return nil
}

// gatewayURL is where a local gateway listening on listen can be reached.
func gatewayURL(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "http://127.0.0.1:8080"
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func contentTypeOf(file string) string {
	switch strings.ToLower(filepath.Ext(file)) {
	case ".xml":
		return "application/xml"
	case ".json":
		return "application/json"
	case ".csv":
		return "text/csv"
	case ".form", ".urlencoded":
		return "application/x-www-form-urlencoded"
	}
	return "application/octet-stream"
}
