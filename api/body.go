package api

import (
	"errors"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// drainMax is the least the server reads and discards of a body over the
// limit before answering 413. A sender that writes its whole body before
// reading the answer only sees the 413 if the server takes that body in:
// closing on unread bytes makes the kernel reset the connection, and the
// reset destroys the answer. Past this (or 4x the limit) the connection
// is closed instead, so a huge upload cannot keep the server busy.
const drainMax = 16 << 20

// guardBody runs before every other handler, the dashboard's included.
// It refuses encoded bodies outside /in/ and reads the body into memory
// only up to the body limit.
//
// The server streams request bodies (StreamRequestBody), so nothing has
// read a body before this runs. Two things are never done to a body:
//   - inflated: an encoded body (Content-Encoding other than identity) is
//     refused with 415 outside /in/ before anything parses it. Form
//     parsing (the CSRF check) and Fiber's c.Body() would inflate gzip
//     with no limit: 100 KiB can become gigabytes. Ingest stores the raw
//     bytes and verifies signatures over them, so it accepts any encoding
//     and never inflates it either.
//   - buffered past the limit: at most limit+1 bytes are kept; the rest
//     of an oversized body is read and thrown away (up to drainMax) so the
//     sender reads the 413.
func (s *server) guardBody(c *fiber.Ctx) error {
	limit := s.MaxBodyBytes
	if limit <= 0 {
		limit = fiber.DefaultBodyLimit
	}
	if !identityEncoded(c) && !isIngestPath(c.Path()) {
		return s.refuseBody(c, limit, errorf(fiber.StatusUnsupportedMediaType, "unsupported_content_encoding",
			"request bodies must not be compressed: send them without Content-Encoding"))
	}
	req := c.Request()
	if !req.IsBodyStream() {
		return c.Next()
	}
	stream := req.BodyStream()
	if cl := req.Header.ContentLength(); cl <= limit {
		var body []byte
		var err error
		if cl >= 0 {
			body = make([]byte, cl)
			_, err = io.ReadFull(stream, body)
		} else { // chunked: no length to trust, read one byte past the limit
			body, err = io.ReadAll(io.LimitReader(stream, int64(limit)+1))
		}
		if err != nil {
			return s.countingErrorHandler(c, fiber.NewError(fiber.StatusBadRequest, "incomplete request body"))
		}
		if len(body) <= limit {
			// A fresh slice the request owns; the stream is at its end, so
			// the connection can serve the next request.
			req.SetBodyRaw(body)
			return c.Next()
		}
	}
	return s.refuseBody(c, limit, fiber.ErrRequestEntityTooLarge)
}

// refuseBody answers err after taking in (and dropping) what the sender is
// still writing of its body, so that it reads the answer; past the drain
// allowance the connection is closed instead.
func (s *server) refuseBody(c *fiber.Ctx, limit int, err error) error {
	if st := c.Request().BodyStream(); st != nil {
		if _, derr := io.CopyN(io.Discard, st, int64(max(drainMax, 4*limit))); !errors.Is(derr, io.EOF) {
			c.Response().SetConnectionClose()
		}
	}
	return s.countingErrorHandler(c, err)
}

// identityEncoded reports whether every Content-Encoding header (a
// request may carry several) names no encoding or "identity".
func identityEncoded(c *fiber.Ctx) bool {
	ok := true
	c.Request().Header.VisitAll(func(k, v []byte) {
		if !strings.EqualFold(string(k), fiber.HeaderContentEncoding) {
			return
		}
		for _, enc := range strings.Split(string(v), ",") {
			if enc = strings.TrimSpace(enc); enc != "" && !strings.EqualFold(enc, "identity") {
				ok = false
			}
		}
	})
	return ok
}

// isIngestPath reports whether path is an ingest URL, /in/{token} (with
// an optional trailing slash): the only route that takes encoded bodies.
// Anything deeper is not ingest and may reach middleware that parses
// forms.
func isIngestPath(path string) bool {
	tok, ok := strings.CutPrefix(path, "/in/")
	tok = strings.TrimSuffix(tok, "/")
	return ok && tok != "" && !strings.Contains(tok, "/")
}
