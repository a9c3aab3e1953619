package dashboard

import (
	"fmt"
	"html/template"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/store"
)

// trafficPanel is one chart of the overview with its totals and table.
type trafficPanel struct {
	Title   string
	Chart   template.HTML
	Buckets []store.TrafficBucket
	Labels  []string
	Total   store.TrafficBucket
}

func (d *Dashboard) traffic(c *fiber.Ctx, title string, since time.Time, unit string, label func(time.Time) string) (*trafficPanel, error) {
	bs, err := d.Relay.Store().Traffic(c.UserContext(), current(c).TeamID, since, d.Relay.Now(), unit)
	if err != nil {
		return nil, err
	}
	p := &trafficPanel{Title: title, Buckets: bs}
	for _, b := range bs {
		p.Labels = append(p.Labels, label(b.At))
		p.Total.Events += b.Events
		p.Total.Succeeded += b.Succeeded
		p.Total.Failed += b.Failed
		p.Total.Pending += b.Pending
	}
	summary := fmt.Sprintf("%s: %d events received; deliveries %d succeeded, %d failed, %d pending",
		title, p.Total.Events, p.Total.Succeeded, p.Total.Failed, p.Total.Pending)
	p.Chart = barChart(bs, func(b store.TrafficBucket) string { return label(b.At) }, summary)
	return p, nil
}

// overview shows traffic charts and the endpoints that need attention.
func (d *Dashboard) overview(c *fiber.Ctx) error {
	now := d.Relay.Now()
	day, err := d.traffic(c, "Last 24 hours", now.Add(-23*time.Hour), "hour",
		func(t time.Time) string { return t.Format("15:00") })
	if err != nil {
		return err
	}
	week, err := d.traffic(c, "Last 7 days", now.AddDate(0, 0, -6), "day",
		func(t time.Time) string { return t.Format("Mon 2") })
	if err != nil {
		return err
	}
	rows, err := d.endpointRows(c)
	if err != nil {
		return err
	}
	var failing []endpointRow
	for _, r := range rows {
		if r.failing() {
			failing = append(failing, r)
		}
	}
	srcs, err := d.Relay.Store().ListSources(c.UserContext(), current(c).TeamID)
	if err != nil {
		return err
	}
	events, err := d.Relay.Store().ListEvents(c.UserContext(), store.EventFilter{TeamID: current(c).TeamID, Limit: 10})
	if err != nil {
		return err
	}
	return d.render(c, "overview", fiber.Map{"Title": "Overview", "Nav": "overview", "Panels": []*trafficPanel{day, week},
		"Failing": failing, "EndpointCount": len(rows), "SourceCount": len(srcs), "Events": events})
}
