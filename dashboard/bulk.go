package dashboard

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/store"
)

var bulkFields = []string{"endpoint", "source", "type", "since", "until"}

// bulkFilter reads a bulk filter from query or form values.
func bulkFilter(get func(string, ...string) string) (store.BulkFilter, error) {
	if err := checkFilters(bulkFields[:3], func(n string) string { return strings.TrimSpace(get(n)) }); err != nil {
		return store.BulkFilter{}, err
	}
	f := store.BulkFilter{EndpointID: strings.TrimSpace(get("endpoint")), SourceID: strings.TrimSpace(get("source")),
		EventType: strings.TrimSpace(get("type"))}
	var err error
	f.Since, f.Until, err = timeRange(get)
	return f, err
}

// bulkData is what the bulk page shows besides the form: the team's
// endpoints and sources to choose from and its latest jobs.
func (d *Dashboard) bulkData(c *fiber.Ctx, data fiber.Map) (fiber.Map, error) {
	ctx, team, st := c.UserContext(), current(c).TeamID, d.Relay.Store()
	eps, err := st.ListEndpoints(ctx, team)
	if err != nil {
		return nil, err
	}
	srcs, err := st.ListSources(ctx, team)
	if err != nil {
		return nil, err
	}
	jobs, err := st.ListBulkJobs(ctx, team, 20)
	if err != nil {
		return nil, err
	}
	data["Title"], data["Nav"] = "Bulk redelivery", "bulk"
	data["Endpoints"], data["Sources"], data["Jobs"] = eps, srcs, jobs
	return data, nil
}

// bulkPage chooses failed deliveries and, with ?preview=1, counts the
// match before anything is started.
func (d *Dashboard) bulkPage(c *fiber.Ctx) error {
	data, err := d.bulkData(c, fiber.Map{"Form": query(c, bulkFields...)})
	if err != nil {
		return err
	}
	if c.Query("preview") == "1" {
		f, err := bulkFilter(c.Query)
		if err == nil {
			var n int
			if n, err = d.Relay.CountBulk(c.UserContext(), current(c).TeamID, f); err == nil {
				data["Count"], data["Counted"] = n, true
			}
		}
		if err != nil {
			return d.invalid(c, "bulk", data, err)
		}
	}
	return d.render(c, "bulk", data)
}

// startBulk starts a job over the filter the user previewed.
func (d *Dashboard) startBulk(c *fiber.Ctx) error {
	f, err := bulkFilter(c.FormValue)
	if err == nil {
		var j *store.BulkJob
		if j, err = d.Relay.StartBulk(c.UserContext(), actor(c), f); err == nil {
			return d.redirect(c, "/bulk/"+j.ID, fmt.Sprintf("Redelivering %d failed deliveries in the background.", j.Total))
		}
	}
	data, derr := d.bulkData(c, fiber.Map{"Form": form(c, bulkFields...)})
	if derr != nil {
		return derr
	}
	return d.invalid(c, "bulk", data, err)
}

// bulkJobPage shows a job's progress; the progress part refreshes itself.
func (d *Dashboard) bulkJobPage(c *fiber.Ctx) error {
	j, err := d.Relay.Store().GetBulkJob(c.UserContext(), current(c).TeamID, c.Params("id"))
	if err != nil {
		return err
	}
	data := fiber.Map{"Title": "Bulk job " + j.ID, "Nav": "bulk", "Job": j, "Live": "/bulk/" + j.ID + "?fragment=1"}
	if id := j.Filter.EndpointID; id != "" && !isFragment(c) {
		// The endpoint by its URL, as everywhere else (it may be deleted since).
		if ep, err := d.Relay.Store().GetEndpoint(c.UserContext(), j.TeamID, id); err == nil {
			data["EndpointURL"] = ep.URL
		}
	}
	if isFragment(c) {
		return d.fragment(c, "bulk_show", "bulk-progress", data)
	}
	return d.render(c, "bulk_show", data)
}

// cancelBulk stops a running job before its next batch.
func (d *Dashboard) cancelBulk(c *fiber.Ctx) error {
	id := strings.Clone(c.Params("id"))
	j, err := d.Relay.CancelBulk(c.UserContext(), actor(c), id)
	if fe := fieldError(err); fe != nil {
		return d.redirectErr(c, "/bulk/"+id, "Not cancelled: "+fe.Msg+".")
	}
	if err != nil {
		return err
	}
	return d.redirect(c, "/bulk/"+id, fmt.Sprintf("Cancelled after %d of %d deliveries.", j.Done, j.Total))
}
