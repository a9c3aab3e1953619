package dashboard

import (
	"html/template"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hookrelay/hookrelay/internal/provider"
)

// providerNames are the providers' names for sentences ("Point Stripe at
// its ingest URL"); the ids stay in forms and the API.
var providerNames = map[string]string{provider.Stripe: "Stripe", provider.GitHub: "GitHub",
	provider.Shopify: "Shopify", provider.Slack: "Slack", provider.Twilio: "Twilio", provider.Paddle: "Paddle",
	provider.StandardWebhooks: "your Standard Webhooks sender", provider.HMAC: "your HMAC sender",
	provider.BasicAuth: "your sender", provider.TokenHeader: "your sender", provider.None: "your sender"}

// providerName is a provider's name for a sentence.
func providerName(kind string) string {
	if n, ok := providerNames[kind]; ok {
		return n
	}
	return kind
}

// answer is a delivery's last answer in words: "HTTP 500", or the error,
// without saying "HTTP 500" twice when the error is the status itself.
func answer(status int, errText string) string {
	code := "HTTP " + strconv.Itoa(status)
	switch {
	case status == 0:
		return errText
	case errText == "" || strings.HasPrefix(errText, code):
		return strings.TrimSpace(code + strings.TrimPrefix(errText, code))
	}
	return code + " — " + errText
}

// extraError is what an error says beyond the status shown next to it:
// "" for the error "HTTP 500" of a 500.
func extraError(status int, errText string) string {
	code := "HTTP " + strconv.Itoa(status)
	if status != 0 && strings.HasPrefix(errText, code) {
		return strings.TrimSpace(strings.TrimPrefix(errText, code))
	}
	return errText
}

var (
	atTime   = regexp.MustCompile(` at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$`)
	rfc3339s = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)
)

// disabledReason is the stored disable reason for the page, which shows
// the disable time itself: a trailing " at <time>" goes, and any other
// time reads like the page's times.
func disabledReason(s string) string {
	s = atTime.ReplaceAllString(s, "")
	return rfc3339s.ReplaceAllStringFunc(s, func(ts string) string {
		t, err := time.Parse(time.RFC3339, ts)
		if err != nil {
			return ts
		}
		return datetime(t)
	})
}

// eventType renders an event type that breaks only after its dots and
// underscores on a narrow screen (payment_intent.<wbr>succeeded), never
// in the middle of a word.
func eventType(t string) template.HTML {
	if t == "" {
		return "—"
	}
	var b strings.Builder
	b.WriteString(`<span class="etype">`)
	start := 0
	for i := 0; i < len(t); i++ {
		if t[i] == '.' || t[i] == '_' || i == len(t)-1 {
			if start > 0 {
				b.WriteString("<wbr>")
			}
			b.WriteString(`<span class="nw">` + template.HTMLEscapeString(t[start:i+1]) + `</span>`)
			start = i + 1
		}
	}
	b.WriteString(`</span>`)
	return template.HTML(b.String())
}
