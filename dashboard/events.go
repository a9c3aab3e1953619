package dashboard

import (
	"cmp"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/store"
)

// deliveryStatuses are the values of the status filters, in display order.
var deliveryStatuses = []string{store.StatusFailed, store.StatusPending, store.StatusSucceeded, store.StatusCancelled}

func validStatus(s string) bool {
	for _, x := range deliveryStatuses {
		if s == x {
			return true
		}
	}
	return s == ""
}

// eventRow is one line of the events table.
type eventRow struct {
	ID, SourceID, SourceName, Type string
	ProviderEventID                string
	ReceivedAt                     time.Time
	Verified, Test                 bool
	Counts                         []store.StatusCount
}

// testFilters are the choices of the events' "Test events" filter: the
// store's EventFilter.Tests values.
var testFilters = []struct{ Value, Label string }{{"", "included"}, {"exclude", "hidden"}, {"only", "only"}}

// typeSuggestScan bounds the events read for the type filter's list.
const typeSuggestScan = 2000

// eventsPage lists events newest first, filtered, one cursor page at a
// time (store.ListEvents walks the (team_id, id) index; no OFFSET). An
// exact event id jumps to the event.
func (d *Dashboard) eventsPage(c *fiber.Ctx) error {
	ctx, team, st := c.UserContext(), current(c).TeamID, d.Relay.Store()
	q := query(c, "source", "type", "status", "since", "until", "id", "limit", "endpoint", "tests")
	errs := FieldErrors{}
	if fe := fieldError(checkFilters([]string{"id", "source", "type", "status", "cursor", "endpoint", "tests"},
		func(n string) string { return cmp.Or(q[n], c.Query(n)) })); fe != nil {
		errs[fe.Field] = fe.Msg
		q["id"] = "" // too long to be an id: no lookup
	}
	if q["id"] != "" {
		e, err := st.FindEvent(ctx, team, q["id"])
		if err == nil {
			return c.Redirect("/events/"+e.ID, fiber.StatusSeeOther)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		errs["id"] = "No event with this id in this team."
	}
	f := store.EventFilter{TeamID: team, SourceID: q["source"], EventType: q["type"], Status: q["status"],
		EndpointID: q["endpoint"], Tests: q["tests"], Before: c.Query("cursor"), Limit: pageLimit(c)}
	if !validStatus(f.Status) {
		errs["status"] = "Choose a status from the list."
	}
	if f.Tests != "" && f.Tests != "exclude" && f.Tests != "only" {
		errs["tests"] = "Choose included, hidden or only."
	}
	var err error
	if f.Since, f.Until, err = timeRange(c.Query); err != nil {
		if fe := fieldError(err); fe != nil {
			errs[fe.Field] = fe.Msg
		} else {
			return err
		}
	}
	sources, err := st.ListSources(ctx, team)
	if err != nil {
		return err
	}
	endpoints, err := st.ListEndpoints(ctx, team)
	if err != nil {
		return err
	}
	types, err := st.SeenEventTypes(ctx, team, q["source"], typeSuggestScan)
	if err != nil {
		return err
	}
	var rows []eventRow
	next := ""
	if len(errs) == 0 {
		if rows, next, err = d.eventRows(c, f, sources); err != nil {
			return err
		}
	}
	filter := map[string]string{"source": q["source"], "type": q["type"], "status": q["status"],
		"since": q["since"], "until": q["until"], "limit": q["limit"], "endpoint": q["endpoint"], "tests": q["tests"]}
	data := fiber.Map{"Title": "Events", "Nav": "events", "Form": q, "Errors": errs, "Rows": rows,
		"Sources": sources, "Endpoints": endpoints, "Types": types, "TestFilters": testFilters, "Statuses": deliveryStatuses, "Paged": c.Query("cursor") != "",
		"First": pageURL("/events", filter),
		"Live":  pageURL("/events", filter, "cursor", c.Query("cursor"), "fragment", "1")}
	if next != "" {
		data["Next"] = pageURL("/events", filter, "cursor", next)
	}
	if isFragment(c) {
		return d.fragment(c, "events", "events-table", data)
	}
	if len(errs) > 0 {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	return d.render(c, "events", data)
}

// eventRows loads a page of events with their delivery status counts and
// returns the cursor of the next page ("" on the last).
func (d *Dashboard) eventRows(c *fiber.Ctx, f store.EventFilter, sources []store.Source) ([]eventRow, string, error) {
	st := d.Relay.Store()
	evs, err := st.ListEvents(c.UserContext(), f)
	if err != nil {
		return nil, "", err
	}
	ids := make([]string, len(evs))
	for i := range evs {
		ids[i] = evs[i].ID
	}
	counts, err := st.DeliveryCounts(c.UserContext(), f.TeamID, ids)
	if err != nil {
		return nil, "", err
	}
	names := make(map[string]string, len(sources))
	for _, s := range sources {
		names[s.ID] = s.Name
	}
	rows := make([]eventRow, len(evs))
	for i, e := range evs {
		rows[i] = eventRow{ID: e.ID, SourceID: e.SourceID, SourceName: names[e.SourceID], Type: e.EventType,
			ReceivedAt: e.ReceivedAt, Verified: e.Verified, Test: e.Test, Counts: counts[e.ID]}
		if e.ProviderEventID != nil {
			rows[i].ProviderEventID = *e.ProviderEventID
		}
	}
	next := ""
	if len(evs) == f.Limit {
		next = evs[len(evs)-1].ID
	}
	return rows, next, nil
}
