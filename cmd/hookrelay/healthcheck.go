package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/hookrelay/hookrelay/internal/config"
)

// runHealthcheck GETs a health URL and fails unless it answers 200. The
// container image is distroless (no shell, no curl), so Docker's and
// compose's HEALTHCHECK run the binary itself.
func runHealthcheck(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stdout)
	url := fs.String("url", "", "health URL (default http://<HOOKRELAY_LISTEN>/healthz)")
	onMetrics := fs.Bool("metrics", false, "check /healthz on HOOKRELAY_METRICS_LISTEN, the worker's only HTTP server")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("healthcheck: unexpected argument %q", fs.Arg(0))
	}
	target := *url
	if target == "" {
		addr, name := cmp.Or(strings.TrimSpace(getenv("HOOKRELAY_LISTEN")), config.DefaultListen), "HOOKRELAY_LISTEN"
		if *onMetrics {
			addr, name = strings.TrimSpace(getenv("HOOKRELAY_METRICS_LISTEN")), "HOOKRELAY_METRICS_LISTEN"
			if addr == "" {
				return errors.New("healthcheck --metrics: HOOKRELAY_METRICS_LISTEN is not set (the worker serves no HTTP without it)")
			}
		}
		var err error
		if target, err = healthURL(addr); err != nil {
			return fmt.Errorf("healthcheck: %s: %w", name, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", target, resp.Status)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}

// healthURL is the /healthz URL of a listen address as seen from inside
// the same host or container: an unspecified host (":8080", "0.0.0.0",
// "[::]") is reached on loopback.
func healthURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
