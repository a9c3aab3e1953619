package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/metrics"
	"github.com/hookrelay/hookrelay/internal/provider"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
)

// ingest receives a provider's webhook: find the source, verify the raw
// bytes, commit event and deliveries, and only then answer 2xx.
func (s *server) ingest(c *fiber.Ctx) error {
	if c.Method() != fiber.MethodPost {
		c.Set(fiber.HeaderAllow, fiber.MethodPost)
		return errorf(fiber.StatusMethodNotAllowed, "method_not_allowed", "ingest accepts POST only")
	}
	// Every answer below is counted once, by source and outcome.
	start, sourceID, outcome := time.Now(), metrics.UnknownSource, metrics.Unavailable
	defer func() { s.Metrics.Ingested(sourceID, outcome, time.Since(start)) }()
	ctx := c.UserContext()
	isrc, err := s.Relay.SourceForIngest(ctx, c.Params("token"))
	if errors.Is(err, store.ErrNotFound) {
		outcome = metrics.NotFound
		return errorf(fiber.StatusNotFound, "unknown_source", "no source has this ingest URL")
	}
	if err != nil {
		return s.unavailable(c, err)
	}
	sourceID = isrc.Source.ID
	// BodyRaw, not Body: Body decompresses, and signatures cover the bytes
	// on the wire. Copied because Fiber reuses the buffer.
	// Never nil: an empty body is stored as empty bytes, not NULL.
	body := append(make([]byte, 0, len(c.BodyRaw())), c.BodyRaw()...)
	header := make(http.Header, 16)
	c.Request().Header.VisitAll(func(k, v []byte) {
		header.Add(string(k), string(v))
	})
	req := &provider.Request{Body: body, Header: header, URL: s.PublicURL + c.OriginalURL(), Now: s.Relay.Now()}
	src := isrc.Source
	res, err := isrc.Verify(req)
	var rej *provider.Rejection
	switch {
	case errors.As(err, &rej):
		outcome = metrics.Rejected
		if rerr := s.Relay.RecordRejection(ctx, src, rej.Reason, c.IP(), header); rerr != nil {
			s.Logger.Warn("record_rejection_failed", "request_id", requestID(c), "source_id", src.ID, "error", rerr.Error())
		}
		return errorf(fiber.StatusUnauthorized, "signature_invalid", "%s", rej.Reason)
	case errors.Is(err, provider.ErrMalformed):
		outcome = metrics.Malformed
		return errorf(fiber.StatusBadRequest, "malformed_payload", "%s", strings.TrimPrefix(err.Error(), "provider: "))
	case err != nil:
		return err
	}
	if res.Reply != nil {
		outcome = metrics.Replied
		if res.Reply.ContentType != "" {
			c.Set(fiber.HeaderContentType, res.Reply.ContentType)
		}
		return c.Status(res.Reply.Status).Send(res.Reply.Body)
	}
	in := relay.Inbound{Source: src, Result: res, Body: body, ContentType: header.Get("Content-Type"),
		Headers: relay.KeepHeaders(header), ReceivedAt: req.Now}
	var out relay.Ingested
	if s.Batcher != nil {
		out, err = s.Batcher.Ingest(ctx, in)
	} else {
		var outs []relay.Ingested
		if outs, err = s.Relay.Ingest(ctx, []relay.Inbound{in}); err == nil {
			out = outs[0]
		}
	}
	if err != nil {
		if !store.IsUnavailable(err) {
			outcome = metrics.StoreFailed
		}
		return s.storeFailed(c, err)
	}
	outcome = metrics.Accepted
	if out.Duplicate {
		outcome = metrics.Duplicate
	}
	s.Dispatcher.Submit([]relay.Ingested{out})
	return c.JSON(fiber.Map{"id": out.EventID, "duplicate": out.Duplicate})
}

// storeFailed answers an event that was not stored. Only an unreachable
// or overloaded database is 503 (the provider's retry will succeed); an
// event PostgreSQL refuses for its data would fail on every retry, so it
// is a 500 with the request id, logged, for an operator to look at.
func (s *server) storeFailed(c *fiber.Ctx, err error) error {
	if store.IsUnavailable(err) {
		return s.unavailable(c, err)
	}
	s.Logger.Error("ingest_store_failed", "request_id", requestID(c), "error", err.Error())
	return c.Status(fiber.StatusInternalServerError).JSON(fiber.Map{"error": fiber.Map{"code": "internal",
		"message": "internal error: this event could not be stored (request " + requestID(c) + ")"}})
}

// unavailable answers 503 so the provider retries: nothing was committed.
func (s *server) unavailable(c *fiber.Ctx, err error) error {
	s.Logger.Error("ingest_unavailable", "request_id", requestID(c), "error", err.Error())
	c.Set(fiber.HeaderRetryAfter, "5")
	return errorf(fiber.StatusServiceUnavailable, "unavailable", "storage unavailable, retry later")
}
