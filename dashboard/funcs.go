package dashboard

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/hookrelay/hookrelay/internal/relay"
)

// navItem is one link of the main navigation.
type navItem struct{ Key, URL, Label string }

var nav = []navItem{
	{"overview", "/", "Overview"},
	{"sources", "/sources", "Sources"},
	{"endpoints", "/endpoints", "Endpoints"},
	{"events", "/events", "Events"},
	{"bulk", "/bulk", "Bulk redelivery"},
	{"audit", "/audit", "Audit log"},
	{"team", "/team", "Team"},
	{"tokens", "/tokens", "API tokens"},
}

var perms = map[string]relay.Permission{"read": relay.PermRead, "configure": relay.PermConfigure,
	"secrets": relay.PermSecrets, "members": relay.PermMembers, "owner": relay.PermOwner}

func (d *Dashboard) funcs() template.FuncMap {
	return template.FuncMap{
		"asset": d.assets.url,
		"nav":   func() []navItem { return nav },
		"fe": func(errs FieldErrors, field string) fieldErr {
			return fieldErr{Field: field, Msg: errs[field]}
		},
		"hasPerm": func(cur *relay.Current, p string) bool {
			pp, ok := perms[p]
			return cur != nil && ok && cur.Can(pp)
		},
		"ago":      ago,
		"datetime": datetime,
		"shortdatetime": func(v any) string {
			if t, ok := timeOf(v); ok {
				return t.UTC().Format("2006-01-02 15:04")
			}
			return ""
		},
		"rfc3339": func(v any) string {
			if t, ok := timeOf(v); ok {
				return t.UTC().Format(time.RFC3339)
			}
			return ""
		},
		"join": strings.Join,
		"unverified": func(verified bool) template.HTML {
			if verified {
				return ""
			}
			return `<span class="badge badge-warn" title="No signature was checked (provider none)">unverified</span>`
		},
		"testBadge": func(test bool) template.HTML {
			if !test {
				return ""
			}
			return `<span class="badge badge-test" title="Sent by hookrelay as a test; no provider signed it">test</span>`
		},
		"providerName":   providerName,
		"answer":         answer,
		"eventType":      eventType,
		"extraError":     extraError,
		"pctOf":          pctOf,
		"disabledReason": disabledReason,
		"spark":          sparkline,
		"pct":            func(r float64) string { return fmt.Sprintf("%.0f%%", r*100) },
		"add":            func(a, b int) int { return a + b },
		"statusClass":    func(s string) string { return "status-" + s },
		"dict": func(kv ...any) map[string]any {
			m := make(map[string]any, len(kv)/2)
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
	}
}

// timeOf accepts time.Time, *time.Time and RFC 3339 strings (the API's
// shapes, like relay.MaskedSecret's dates).
func timeOf(v any) (time.Time, bool) {
	switch t := v.(type) {
	case string:
		p, err := time.Parse(time.RFC3339, t)
		return p, err == nil && !p.IsZero()
	case time.Time:
		return t, !t.IsZero()
	case *time.Time:
		if t != nil {
			return *t, !t.IsZero()
		}
	}
	return time.Time{}, false
}

// datetime formats a time in UTC; empty for a zero or nil time.
func datetime(v any) string {
	t, ok := timeOf(v)
	if !ok {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// ago says how long ago t was, roughly; "never" for a zero or nil time.
func ago(v any) string {
	t, ok := timeOf(v)
	if !ok {
		return "never"
	}
	d := time.Since(t)
	switch {
	case d < 0:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}
