package dashboard

import (
	"cmp"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
)

var auditFields = []string{"action", "actor", "target", "since", "until", "limit"}

// actionChoices are offered in the action filter: every action the use
// cases write, and a pattern per family (endpoint.*). Any other value is
// accepted too.
func actionChoices() []string {
	var fams []string
	for _, a := range relay.AuditActions {
		if f := strings.SplitN(a, ".", 2)[0] + ".*"; !slices.Contains(fams, f) {
			fams = append(fams, f)
		}
	}
	return slices.Concat(relay.AuditActions, fams)
}

// showIPs reports whether the signed-in user sees the audit log's client
// IP addresses (page and CSV): admins and owners only.
func showIPs(c *fiber.Ctx) bool { return current(c).Can(relay.PermMembers) }

// auditSearch reads the audit filters of a request.
func auditSearch(c *fiber.Ctx) (store.AuditSearch, map[string]string, error) {
	q := query(c, auditFields...)
	f := store.AuditSearch{TeamID: current(c).TeamID, Action: q["action"], Actor: q["actor"], TargetID: q["target"],
		Before: c.Query("cursor"), Limit: pageLimit(c)}
	if err := checkFilters(slices.Concat(auditFields, []string{"cursor"}), func(n string) string { return cmp.Or(q[n], c.Query(n)) }); err != nil {
		return f, q, err
	}
	var err error
	f.Since, f.Until, err = timeRange(c.Query)
	return f, q, err
}

// change is one field of an audit row's before/after details.
type change struct{ Field, Before, After string }

// auditRow is an audit entry made readable.
type auditRow struct {
	store.AuditEntry
	ActorKind, ActorID string
	TargetURL          string
	// Changes are the fields of the before/after details. HasBefore and
	// HasAfter say which sides the entry recorded: a create has only an
	// after, a redelivery or a deletion only a before, and the page shows
	// only the columns that exist.
	Changes             []change
	HasBefore, HasAfter bool
	Unchanged           []string // set to the value they had, left out of Changes
	Other               []header // details that are not before/after
	Alert               bool     // failed logins and secret reveals stand out
}

// targetPages link audit targets to their pages.
var targetPages = map[string]string{"event": "/events/", "delivery": "/deliveries/", "bulk_job": "/bulk/",
	"endpoint": "/endpoints/", "source": "/sources/"}

func compact(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if v == nil {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func auditRowOf(a store.AuditEntry) auditRow {
	r := auditRow{AuditEntry: a, ActorKind: a.Actor, Alert: strings.HasSuffix(a.Action, "login_failed") ||
		strings.HasSuffix(a.Action, "secret.reveal")}
	if k, id, ok := strings.Cut(a.Actor, ":"); ok {
		r.ActorKind, r.ActorID = k, id
	}
	if p, ok := targetPages[a.TargetKind]; ok && a.TargetID != "" && !strings.HasSuffix(a.Action, ".delete") {
		r.TargetURL = p + a.TargetID
	}
	before, hasBefore := a.Details["before"].(map[string]any)
	after, hasAfter := a.Details["after"].(map[string]any)
	r.HasBefore, r.HasAfter = hasBefore && len(before) > 0, hasAfter && len(after) > 0
	keys := slices.Sorted(maps.Keys(after))
	if !r.HasAfter {
		keys = slices.Sorted(maps.Keys(before))
	}
	// With both sides, after holds every field the change set, so a field
	// only in before (a snapshot) was left alone.
	for _, k := range keys {
		b, inBefore := before[k]
		c := change{Field: k, Before: compact(b), After: compact(after[k])}
		if r.HasBefore && r.HasAfter && inBefore && c.Before == c.After {
			r.Unchanged = append(r.Unchanged, k)
			continue
		}
		r.Changes = append(r.Changes, c)
	}
	for _, k := range slices.Sorted(maps.Keys(a.Details)) {
		if k != "before" && k != "after" {
			r.Other = append(r.Other, header{Name: k, Value: compact(a.Details[k])})
		}
	}
	return r
}

// auditPage lists the audit log newest first with filters, one cursor
// page at a time.
func (d *Dashboard) auditPage(c *fiber.Ctx) error {
	f, q, err := auditSearch(c)
	errs := FieldErrors{}
	if fe := fieldError(err); fe != nil {
		errs[fe.Field] = fe.Msg
	} else if err != nil {
		return err
	}
	var rows []auditRow
	next := ""
	if len(errs) == 0 {
		entries, err := d.Relay.Store().SearchAudit(c.UserContext(), f)
		if err != nil {
			return err
		}
		for _, a := range entries {
			rows = append(rows, auditRowOf(a))
		}
		if len(entries) == f.Limit {
			next = entries[len(entries)-1].ID
		}
	} else {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	actors, err := d.actorChoices(c)
	if err != nil {
		return err
	}
	data := fiber.Map{"Title": "Audit log", "Nav": "audit", "Form": q, "Errors": errs, "Rows": rows,
		"Actions": actionChoices(), "Actors": actors, "ShowIPs": showIPs(c),
		"Paged": c.Query("cursor") != "", "First": pageURL("/audit", q), "CSV": pageURL("/audit.csv", q)}
	if next != "" {
		data["Next"] = pageURL("/audit", q, "cursor", next)
	}
	return d.render(c, "audit", data)
}

// auditTime formats an audit time for the CSV export.
func auditTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// actorChoices are offered in the actor filter: the team's members, and
// the kinds of actors that are not people (patterns).
func (d *Dashboard) actorChoices(c *fiber.Ctx) ([]string, error) {
	members, err := d.Relay.Store().MembersOf(c.UserContext(), current(c).TeamID)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(members)+3)
	for _, m := range members {
		out = append(out, m.UserEmail)
	}
	return append(out, "system:*", "token:*", "cli:*"), nil
}
