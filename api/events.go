package api

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
)

var statuses = map[string]bool{"": true, store.StatusPending: true, store.StatusSucceeded: true,
	store.StatusFailed: true, store.StatusCancelled: true}

func parseTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return t, &relay.ValidationError{Field: field, Msg: "want an RFC 3339 time like 2026-01-02T15:04:05Z"}
	}
	return t, nil
}

// listEvents pages newest first: pass the returned next_cursor as cursor.
func (s *server) listEvents(c *fiber.Ctx) error {
	f := store.EventFilter{TeamID: token(c).TeamID, SourceID: c.Query("source_id"), EventType: c.Query("event_type"),
		Status: c.Query("status"), Before: c.Query("cursor")}
	for _, n := range []string{"source_id", "event_type", "cursor"} {
		if err := relay.CheckFilter(n, c.Query(n)); err != nil {
			return err
		}
	}
	if !statuses[f.Status] {
		return &relay.ValidationError{Field: "status", Msg: "want pending, succeeded, failed or cancelled"}
	}
	var err error
	if f.Since, err = parseTime("since", c.Query("since")); err != nil {
		return err
	}
	if f.Until, err = parseTime("until", c.Query("until")); err != nil {
		return err
	}
	f.Limit, _ = strconv.Atoi(c.Query("limit", "50"))
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	evs, err := s.Relay.Store().ListEvents(c.UserContext(), f)
	if err != nil {
		return err
	}
	out := make([]eventView, len(evs))
	for i := range evs {
		out[i] = eventViewOf(&evs[i], false)
	}
	next := ""
	if len(evs) == f.Limit {
		next = evs[len(evs)-1].ID
	}
	return c.JSON(fiber.Map{"data": out, "next_cursor": next})
}

func (s *server) getEvent(c *fiber.Ctx) error {
	teamID := token(c).TeamID
	e, err := s.Relay.Store().GetEvent(c.UserContext(), teamID, c.Params("id"))
	if err != nil {
		return err
	}
	ds, err := s.Relay.Store().DeliveriesOfEvent(c.UserContext(), teamID, e.ID)
	if err != nil {
		return err
	}
	v := eventViewOf(e, true)
	v.Deliveries = []deliveryView{}
	for i := range ds {
		v.Deliveries = append(v.Deliveries, deliveryViewOf(&ds[i], nil))
	}
	return c.JSON(v)
}

func (s *server) redeliverEvent(c *fiber.Ctx) error {
	ds, err := s.Relay.RedeliverEvent(c.UserContext(), actor(c), c.Params("id"))
	if err != nil {
		return err
	}
	out := make([]deliveryView, len(ds))
	for i := range ds {
		out[i] = deliveryViewOf(&ds[i], nil)
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"data": out})
}

func (s *server) getDelivery(c *fiber.Ctx) error {
	d, err := s.Relay.Store().GetDelivery(c.UserContext(), token(c).TeamID, c.Params("id"))
	if err != nil {
		return err
	}
	atts, err := s.Relay.Store().AttemptsOfDelivery(c.UserContext(), d)
	if err != nil {
		return err
	}
	return c.JSON(deliveryViewOf(d, atts))
}

func (s *server) redeliver(c *fiber.Ctx) error {
	d, err := s.Relay.Redeliver(c.UserContext(), actor(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(deliveryViewOf(d, nil))
}

func (s *server) listAudit(c *fiber.Ctx) error {
	for _, n := range []string{"action", "target_id", "cursor"} {
		if err := relay.CheckFilter(n, c.Query(n)); err != nil {
			return err
		}
	}
	limit, _ := strconv.Atoi(c.Query("limit", "100"))
	if limit <= 0 || limit > 500 { // the store's clamp, so next_cursor below sees the real page size
		limit = 100
	}
	rows, err := s.Relay.Store().ListAudit(c.UserContext(), store.AuditFilter{TeamID: token(c).TeamID,
		Action: c.Query("action"), TargetID: c.Query("target_id"), Before: c.Query("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	next := ""
	if len(rows) > 0 && len(rows) == limit {
		next = rows[len(rows)-1].ID
	}
	return c.JSON(fiber.Map{"data": rows, "next_cursor": next})
}
