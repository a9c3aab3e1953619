package api

import (
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	"github.com/hookrelay/hookrelay/internal/metrics"
)

// metrics serves the process's Prometheus registry (bearer token optional).
func (s *server) metrics() fiber.Handler {
	return adaptor.HTTPHandler(s.Metrics.Handler(s.MetricsToken, s.Logger))
}

// countingErrorHandler is the app's ErrorHandler. Errors of handlers are
// answered by accessLog; what reaches this one was refused by fasthttp
// before any route ran, such as a body over the limit, which is counted as
// a too_large ingest.
func (s *server) countingErrorHandler(c *fiber.Ctx, err error) error {
	if tok, ok := strings.CutPrefix(c.Path(), "/in/"); ok && isTooLarge(err) && s.Metrics != nil {
		src := metrics.UnknownSource
		if is, lerr := s.Relay.SourceForIngest(c.UserContext(), strings.Clone(tok)); lerr == nil {
			src = is.Source.ID
		}
		s.Metrics.Ingested(src, metrics.TooLarge, 0)
	}
	herr := s.errorHandler(c, err)
	s.Logger.Info("http_request_refused", slog.String("method", c.Method()),
		slog.Int("status", c.Response().StatusCode()), slog.String("remote_addr", c.IP()))
	return herr
}

func isTooLarge(err error) bool {
	fe, ok := err.(*fiber.Error)
	return ok && fe.Code == fiber.StatusRequestEntityTooLarge
}

// requestID is the id the requestID middleware gave the request.
func requestID(c *fiber.Ctx) string {
	rid, _ := c.Locals("request_id").(string)
	return rid
}

// accessLog writes one line per request once it is answered. It logs the
// route pattern, never the raw path: /in/:token and /invite/:token carry
// secrets in the path, and query strings are not logged at all.
func (s *server) accessLog(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		// Answer now, as Fiber would after the chain, so the line has the
		// status the client gets.
		if herr := s.errorHandler(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
		err = nil
	}
	status := c.Response().StatusCode()
	lvl := slog.LevelInfo
	if status >= 500 {
		lvl = slog.LevelWarn
	}
	s.Logger.LogAttrs(c.UserContext(), lvl, "http_request",
		slog.String("request_id", requestID(c)),
		slog.String("method", c.Method()),
		slog.String("route", routePattern(c)),
		slog.Int("status", status),
		slog.Int64("duration_us", time.Since(start).Microseconds()),
		slog.String("remote_addr", c.IP()))
	return err
}

// routePattern is the matched route's pattern ("/in/:token"), or "" when
// no route matched (then the raw path might hold anything).
func routePattern(c *fiber.Ctx) string {
	r := c.Route()
	if r == nil || len(r.Handlers) == 0 {
		return ""
	}
	// A 404 ends on the last middleware that matched every path.
	if c.Response().StatusCode() == fiber.StatusNotFound && r.Path == "/" && c.Path() != "/" {
		return ""
	}
	return r.Path
}
