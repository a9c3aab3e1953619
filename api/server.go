// Package api is hookrelay's HTTP face: ingest at /in/{token}, the admin
// REST API under /api/v1, and health. Handlers are thin adapters over
// internal/relay.
package api

import (
	"context"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/metrics"
	"github.com/hookrelay/hookrelay/internal/relay"
)

// Deps are what the API needs.
type Deps struct {
	Relay *relay.Relay
	// Dispatcher enqueues first attempts after the acknowledgement.
	Dispatcher *relay.Dispatcher
	// Batcher, when set, lets concurrent ingest requests share a commit.
	Batcher *relay.Batcher
	Logger  *slog.Logger
	// MaxBodyBytes is the ingest body limit (the server's BodyLimit).
	MaxBodyBytes int
	// PublicURL is the base URL providers post to (ingest URLs, Twilio).
	PublicURL string
	// Ready are the dependency checks of /readyz by name ("postgres",
	// "redis", "schema"); their errors are logged, never shown.
	Ready map[string]func(ctx context.Context) error
	// Mount lets other packages (the dashboard) add routes to the app.
	Mount func(app *fiber.App)
	// Metrics, when set, counts ingests and is served at /metrics.
	Metrics *metrics.Metrics
	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsToken string
	// NoMetricsRoute keeps /metrics off this app: production without a
	// token serves it only on its separate listener.
	NoMetricsRoute bool
	// TrustedProxies are the addresses or CIDRs of the proxies whose
	// X-Forwarded-For gives c.IP(); from anyone else the header is ignored
	// (spoofable). Empty trusts none.
	TrustedProxies []string
}

// New builds the Fiber app.
func New(d Deps) *fiber.App {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	s := &server{Deps: d}
	app := fiber.New(fiber.Config{
		// Fiber reuses request buffers after a handler returns; relay code
		// copies what it keeps, and Immutable covers params and headers.
		Immutable:             true,
		BodyLimit:             d.MaxBodyBytes,
		DisableStartupMessage: true,
		ErrorHandler:          s.countingErrorHandler,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           120 * time.Second,
		// Bodies are streamed to the handlers: guardBody (body.go), the
		// first middleware, refuses encoded bodies outside /in/ and reads
		// at most BodyLimit bytes, draining the rest of an oversized body
		// so the sender reads its 413 instead of a connection reset.
		StreamRequestBody: true,
		// No multipart parsing while reading: ingest keeps the exact bytes
		// (a pre-parsed form is re-encoded, not the bytes sent), and forms
		// are parsed on demand after guardBody.
		DisablePreParseMultipartForm: true,
		// The client address (sign-in throttling, audit rows, rejected
		// requests) comes from X-Forwarded-For only when the peer is a
		// trusted proxy; IP validation makes c.IP() the header's first
		// valid address rather than its raw text.
		EnableTrustedProxyCheck: true,
		TrustedProxies:          d.TrustedProxies,
		ProxyHeader:             fiber.HeaderXForwardedFor,
		EnableIPValidation:      true,
	})
	s.routes(app)
	if d.Mount != nil {
		d.Mount(app)
	}
	return app
}

type server struct {
	Deps
}
