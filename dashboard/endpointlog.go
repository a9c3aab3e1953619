package dashboard

import (
	"fmt"
	"math"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/store"
)

// logRanges are the chart periods of the delivery log: buckets of step.
var logRanges = map[string]struct {
	Step   time.Duration
	N      int
	Layout string
}{"24h": {time.Hour, 24, "15:04"}, "7d": {6 * time.Hour, 28, "Mon 15h"}}

// endpointLogPage is an endpoint's delivery log: every delivery, newest
// first, one cursor page at a time (no OFFSET), filtered by status; and
// its attempts' success rate and latency (p50/p95) over 24 h or 7 days.
func (d *Dashboard) endpointLogPage(c *fiber.Ctx) error {
	ep, err := d.getEndpoint(c)
	if err != nil {
		return err
	}
	ctx, team := c.UserContext(), current(c).TeamID
	q := query(c, "status", "range", "limit")
	errs := FieldErrors{}
	if fe := fieldError(checkFilters([]string{"status", "range", "cursor"}, func(n string) string { return c.Query(n) })); fe != nil {
		errs[fe.Field] = fe.Msg
	}
	if !validStatus(q["status"]) {
		errs["status"] = "Choose a status from the list."
	}
	if q["range"] == "" {
		q["range"] = "24h"
	}
	rg, ok := logRanges[q["range"]]
	if !ok {
		errs["range"] = "Choose 24h or 7d."
		rg = logRanges["24h"]
	}
	data := fiber.Map{"Title": "Deliveries to " + ep.URL, "Nav": "endpoints", "Endpoint": ep, "Form": q, "Errors": errs,
		"Statuses": deliveryStatuses}
	if len(errs) > 0 {
		c.Status(fiber.StatusUnprocessableEntity)
		return d.render(c, "endpoint_log", data)
	}
	limit := pageLimit(c)
	rows, err := d.Relay.Store().EndpointDeliveries(ctx, team, ep.ID, q["status"], c.Query("cursor"), limit)
	if err != nil {
		return err
	}
	if data["TestEvents"], err = d.testEventsOf(ctx, team, rows); err != nil {
		return err
	}
	filter := map[string]string{"status": q["status"], "range": q["range"], "limit": q["limit"]}
	path := "/endpoints/" + ep.ID + "/deliveries"
	data["Rows"], data["First"], data["Paged"] = rows, pageURL(path, filter), c.Query("cursor") != ""
	if len(rows) == limit {
		data["Next"] = pageURL(path, filter, "cursor", rows[len(rows)-1].ID)
	}
	since := d.Relay.Now().Truncate(rg.Step).Add(-time.Duration(rg.N-1) * rg.Step)
	stats, err := d.Relay.Store().EndpointAttemptStats(ctx, team, ep.ID, since, rg.Step, rg.N)
	if err != nil {
		return err
	}
	d.logCharts(data, stats, since, rg.Step, rg.Layout)
	return d.render(c, "endpoint_log", data)
}

// logCharts adds the success-rate and latency charts and their table.
func (d *Dashboard) logCharts(data fiber.Map, stats []store.AttemptStats, since time.Time, step time.Duration, layout string) {
	labels := make([]string, len(stats))
	rate, p50, p95 := make([]float64, len(stats)), make([]float64, len(stats)), make([]float64, len(stats))
	for i, s := range stats {
		labels[i] = since.Add(time.Duration(i) * step).UTC().Format(layout)
		rate[i], p50[i], p95[i] = math.NaN(), math.NaN(), math.NaN()
		if s.Attempts > 0 {
			rate[i] = 100 * float64(s.Succeeded) / float64(s.Attempts)
			p50[i], p95[i] = s.P50MS, s.P95MS
		}
	}
	data["Labels"], data["Stats"] = labels, stats
	data["RateChart"] = lineChart(labels, []series{{"succeeded", colSucceeded, rate}}, "%", 100,
		"Share of attempts that got a 2xx answer, per period")
	data["LatencyChart"] = lineChart(labels, []series{{"p50", colEvents, p50}, {"p95", colPending, p95}}, " ms", 0,
		"Attempt duration, median (p50) and 95th percentile (p95), per period")
}

// pctOf is n of total as a whole percentage, for the table.
func pctOf(n, total int) string {
	if total == 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(n)/float64(total))
}
