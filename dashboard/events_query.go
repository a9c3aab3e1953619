package dashboard

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/relay"
)

// timeLayouts are what the time filters accept: the browser's
// datetime-local value (read as UTC), a date, or RFC 3339.
var timeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339, "2006-01-02"}

// parseWhen reads a time filter field; empty is the zero time.
func parseWhen(field, v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, v, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, &relay.ValidationError{Field: field, Msg: "want a time like 2026-01-02T15:04 (UTC)"}
}

// timeRange reads the since and until fields of a filter form.
func timeRange(get func(string, ...string) string) (since, until time.Time, err error) {
	if since, err = parseWhen("since", get("since")); err != nil {
		return
	}
	if until, err = parseWhen("until", get("until")); err != nil {
		return
	}
	if !since.IsZero() && !until.IsZero() && !until.After(since) {
		err = &relay.ValidationError{Field: "until", Msg: "must be after since"}
	}
	return
}

// pageLimit reads ?limit, bounded to 1–200 (default 50).
func pageLimit(c *fiber.Ctx) int {
	n, err := strconv.Atoi(c.Query("limit"))
	if err != nil || n <= 0 || n > 200 {
		return 50
	}
	return n
}

// query copies the named query parameters, for re-filling filter forms.
func query(c *fiber.Ctx, names ...string) map[string]string {
	out := make(map[string]string, len(names))
	for _, n := range names {
		out[n] = strings.TrimSpace(c.Query(n))
	}
	return out
}

// pageURL is path with the filter values, a cursor and extra parameters
// (name, value pairs), for next-page and fragment links.
func pageURL(path string, filter map[string]string, extra ...string) string {
	v := url.Values{}
	for k, x := range filter {
		if x != "" {
			v.Set(k, x)
		}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] != "" {
			v.Set(extra[i], extra[i+1])
		}
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// fieldError returns err as a validation error, or nil if it is another error.
func fieldError(err error) *relay.ValidationError {
	var ve *relay.ValidationError
	if errors.As(err, &ve) {
		return ve
	}
	return nil
}
