package dashboard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/store"
)

// header is one header line for display.
type header struct{ Name, Value string }

// headerList flattens and sorts headers for display.
func headerList(h map[string][]string) []header {
	var out []header
	for k, vs := range h {
		for _, v := range vs {
			out = append(out, header{Name: http.CanonicalHeaderKey(k), Value: v})
		}
	}
	slices.SortStableFunc(out, func(a, b header) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// prettyBody indents a JSON body; ok is false when the body is not JSON.
func prettyBody(b []byte) (string, bool) {
	var buf bytes.Buffer
	if len(bytes.TrimSpace(b)) == 0 || json.Indent(&buf, b, "", "  ") != nil {
		return "", false
	}
	return buf.String(), true
}

// asText shows bytes as text, replacing what is not UTF-8.
func asText(b []byte) string { return strings.ToValidUTF8(string(b), "\uFFFD") }

// deliveryRow is a delivery with its endpoint's URL.
type deliveryRow struct {
	store.Delivery
	URL string
}

// endpointURLs maps a team's endpoint ids to their URLs.
func (d *Dashboard) endpointURLs(c *fiber.Ctx, team string) (map[string]string, error) {
	eps, err := d.Relay.Store().ListEndpoints(c.UserContext(), team)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(eps))
	for _, ep := range eps {
		out[ep.ID] = ep.URL
	}
	return out, nil
}

// eventPage shows one event: headers, body (pretty and raw) and deliveries.
func (d *Dashboard) eventPage(c *fiber.Ctx) error {
	ctx, team, st := c.UserContext(), current(c).TeamID, d.Relay.Store()
	e, err := st.GetEvent(ctx, team, c.Params("id"))
	if err != nil {
		return err
	}
	ds, err := st.DeliveriesOfEvent(ctx, team, e.ID)
	if err != nil {
		return err
	}
	urls, err := d.endpointURLs(c, team)
	if err != nil {
		return err
	}
	rows := make([]deliveryRow, len(ds))
	for i := range ds {
		rows[i] = deliveryRow{Delivery: ds[i], URL: urls[ds[i].EndpointID]}
	}
	source := e.SourceID
	if src, err := st.GetSource(ctx, team, e.SourceID); err == nil {
		source = src.Name
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	pretty, isJSON := prettyBody(e.Body)
	return d.render(c, "events_show", fiber.Map{"Title": "Event " + e.ID, "Nav": "events", "Event": e,
		"Source": source, "Headers": headerList(e.Headers), "Pretty": pretty, "IsJSON": isJSON,
		"Raw": asText(e.Body), "Size": len(e.Body), "Deliveries": rows})
}

// redeliverEvent sends the event again to every endpoint it went to.
func (d *Dashboard) redeliverEvent(c *fiber.Ctx) error {
	id := strings.Clone(c.Params("id"))
	ds, err := d.Relay.RedeliverEvent(c.UserContext(), actor(c), id)
	if err != nil {
		return err
	}
	if len(ds) == 0 {
		return d.redirectErr(c, "/events/"+id, "This event has no deliveries to redeliver.")
	}
	return d.redirect(c, "/events/"+id, fmt.Sprintf("Redelivery queued to %d endpoint(s).", len(ds)))
}
