// Command hookrelay is a self-hosted webhook relay: `serve` receives and
// verifies webhooks and runs the admin API and dashboard, `worker` delivers
// them, `all` does both in one process.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tuneGC(os.Getenv)
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "hookrelay:", err)
		os.Exit(1)
	}
}
