package relay

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hookrelay/hookrelay/internal/store"
)

// Length limits of what users type, in characters unless a name says
// bytes. The API and the dashboard go through the same checks (422 naming
// the field); docs/api.md lists them. They keep one request from storing
// megabytes in a name and the dashboard's layouts readable.
const (
	MaxNameLen          = 200  // source, team, API token and user names
	MaxURLLen           = 2048 // endpoint URL
	MaxDescriptionLen   = 1000 // endpoint description
	MaxHeaders          = 20   // custom headers per endpoint
	MaxHeaderNameLen    = 256  // bytes
	MaxHeaderValueLen   = 4096 // bytes
	MaxSecretLen        = 1024 // a source's signing secret
	MaxEventTypes       = 100  // entries of an endpoint's event type filter
	MaxEventTypeLen     = 200  // one entry
	MaxSourceIDs        = 100  // sources one endpoint subscribes to
	MaxRetryScheduleLen = 200  // "5s,5m,30m,…"
	MaxConfigBytes      = 4096 // a source's config JSON
	MaxEmailLen         = 254  // RFC 5321's path limit
	MaxFilterLen        = 200  // a list or search filter: ids, event type, action, cursor
)

// checkLen refuses s when it is longer than max characters.
func checkLen(field, s string, max int) error {
	if n := utf8.RuneCountInString(s); n > max {
		return invalid(field, "must be at most %d characters (got %d)", max, n)
	}
	return nil
}

// CheckFilter bounds a list or search filter value (query parameters of the
// API and the dashboard).
func CheckFilter(field, v string) error { return checkLen(field, v, MaxFilterLen) }

// checkSourceInput checks the lengths of a source create or update.
func checkSourceInput(in SourceInput) error {
	if in.Name != nil {
		if err := checkLen("name", strings.TrimSpace(*in.Name), MaxNameLen); err != nil {
			return err
		}
	}
	if in.Secret != nil {
		if err := checkLen("secret", *in.Secret, MaxSecretLen); err != nil {
			return err
		}
	}
	if in.Config != nil && len(*in.Config) > MaxConfigBytes {
		return invalid("config", "must be at most %d bytes of JSON (got %d)", MaxConfigBytes, len(*in.Config))
	}
	return nil
}

// checkEndpointInput checks the lengths and counts of an endpoint create or
// update, and its custom headers.
func checkEndpointInput(in EndpointInput) error {
	if in.URL != nil {
		if err := checkLen("url", strings.TrimSpace(*in.URL), MaxURLLen); err != nil {
			return err
		}
	}
	if in.Description != nil {
		if err := checkLen("description", *in.Description, MaxDescriptionLen); err != nil {
			return err
		}
	}
	if in.RetrySchedule != nil {
		if err := checkLen("retry_schedule", strings.TrimSpace(*in.RetrySchedule), MaxRetryScheduleLen); err != nil {
			return err
		}
	}
	if in.EventTypes != nil {
		if n := len(*in.EventTypes); n > MaxEventTypes {
			return invalid("event_types", "at most %d entries (got %d)", MaxEventTypes, n)
		}
		for _, t := range *in.EventTypes {
			if n := utf8.RuneCountInString(strings.TrimSpace(t)); n > MaxEventTypeLen {
				return invalid("event_types", "each entry at most %d characters (got one of %d)", MaxEventTypeLen, n)
			}
		}
	}
	if in.SourceIDs != nil {
		if n := len(*in.SourceIDs); n > MaxSourceIDs {
			return invalid("source_ids", "at most %d sources (got %d)", MaxSourceIDs, n)
		}
		for _, id := range *in.SourceIDs {
			if err := checkLen("source_ids", id, MaxFilterLen); err != nil {
				return err
			}
		}
	}
	if in.Headers != nil {
		return checkHeaders(*in.Headers)
	}
	return nil
}

// reservedHeader reports whether an endpoint may not set header k (in
// canonical form): hop-by-hop headers, which the HTTP client owns, and
// what hookrelay sets on every delivery (content type, user agent,
// signatures and ids), which a custom header would forge or break.
func reservedHeader(k string) bool {
	switch k {
	case "Host", "Content-Length", "Content-Type", "Content-Encoding", "Transfer-Encoding", "Connection",
		"Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "Te", "Trailer", "Upgrade", "Expect",
		"User-Agent", "Stripe-Signature", "X-Hub-Signature-256", "X-Github-Event", "X-Github-Delivery":
		return true
	}
	for _, p := range []string{"Webhook-", "Svix-", "X-Hookrelay-"} {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

// checkHeaders refuses custom headers that would only fail at delivery, or
// change what the request means: names that are not HTTP tokens (spaces,
// colons, control characters), values with CR, LF, NUL or other control
// characters, reserved names, names given twice, and too many or too long.
// The error names the header.
func checkHeaders(h map[string]string) error {
	if len(h) > MaxHeaders {
		return invalid("headers", "at most %d headers (got %d)", MaxHeaders, len(h))
	}
	seen := make(map[string]string, len(h))
	for _, k := range slices.Sorted(maps.Keys(h)) {
		v := h[k]
		switch {
		case k == "":
			return invalid("headers", "a header name is empty")
		case len(k) > MaxHeaderNameLen:
			return invalid("headers", "header name %.40q… is longer than %d bytes", k, MaxHeaderNameLen)
		case !validHeaderName(k):
			return invalid("headers", "header name %q is not a valid HTTP header name (letters, digits and !#$%%&'*+-.^_`|~ only)", k)
		}
		ck := http.CanonicalHeaderKey(k)
		switch {
		case reservedHeader(ck):
			return invalid("headers", "header %q cannot be set: hookrelay or the HTTP client sets it", k)
		case seen[ck] != "":
			return invalid("headers", "header %q is given twice (as %q)", k, seen[ck])
		case len(v) > MaxHeaderValueLen:
			return invalid("headers", "the value of header %q is longer than %d bytes", k, MaxHeaderValueLen)
		case !validHeaderValue(v):
			return invalid("headers", "the value of header %q holds a line break or another control character", k)
		}
		seen[ck] = k
	}
	return nil
}

// validHeaderName reports whether k is an RFC 9110 token.
func validHeaderName(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue reports whether v has no control characters but tab
// (RFC 9110 field-value; bytes from 0x80 are allowed, as net/http does).
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// checkBulkLengths bounds the text filters of a bulk redelivery.
func checkBulkLengths(f store.BulkFilter) error {
	for _, x := range [][2]string{{"endpoint_id", f.EndpointID}, {"source_id", f.SourceID}, {"event_type", f.EventType}} {
		if err := CheckFilter(x[0], x[1]); err != nil {
			return err
		}
	}
	return nil
}

// checkEmailLen bounds an email address before anything parses it.
func checkEmailLen(email string) error {
	if len(email) > MaxEmailLen {
		return invalid("email", "must be at most %d characters", MaxEmailLen)
	}
	return nil
}
