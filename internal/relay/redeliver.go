package relay

import (
	"context"
	"errors"
	"strings"

	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/task"
)

// Redeliver makes a delivery pending and sends a new attempt now,
// whatever its state (succeeded, failed or still retrying).
func (r *Relay) Redeliver(ctx context.Context, a Actor, deliveryID string) (*store.Delivery, error) {
	var d *store.Delivery
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		before, err := tx.GetDelivery(ctx, a.TeamID, deliveryID)
		if err != nil {
			return err
		}
		if _, err := tx.GetEndpoint(ctx, a.TeamID, before.EndpointID); errors.Is(err, store.ErrNotFound) {
			return invalid("delivery", "its endpoint was deleted; nothing to redeliver to")
		} else if err != nil {
			return err
		}
		if d, err = tx.ResetForRedelivery(ctx, a.TeamID, deliveryID, r.Now()); err != nil {
			return err
		}
		return r.audit(ctx, tx, a, "delivery.redeliver", "delivery", deliveryID,
			map[string]any{"before": map[string]any{"status": before.Status, "attempts": before.Attempts}, "event_id": d.EventID})
	})
	if err != nil {
		return nil, err
	}
	r.enqueueManual(ctx, d)
	return d, nil
}

// RedeliverEvent redelivers an event to every endpoint it was sent to.
func (r *Relay) RedeliverEvent(ctx context.Context, a Actor, eventID string) ([]store.Delivery, error) {
	var out []store.Delivery
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		if _, err := tx.GetEvent(ctx, a.TeamID, eventID); err != nil {
			return err
		}
		ds, err := tx.DeliveriesOfEvent(ctx, a.TeamID, eventID)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if _, err := tx.GetEndpoint(ctx, a.TeamID, d.EndpointID); errors.Is(err, store.ErrNotFound) {
				continue // endpoint deleted since: nothing to send to
			} else if err != nil {
				return err
			}
			nd, err := tx.ResetForRedelivery(ctx, a.TeamID, d.ID, r.Now())
			if err != nil {
				return err
			}
			out = append(out, *nd)
		}
		return r.audit(ctx, tx, a, "event.redeliver", "event", eventID, map[string]any{"deliveries": len(out)})
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		r.enqueueManual(ctx, &out[i])
	}
	return out, nil
}

// enqueueManual queues a manual attempt under a unique task id, so it runs
// now even if a scheduled retry holds the attempt's plain id (whichever
// runs first claims the attempt; the other is dropped as stale).
func (r *Relay) enqueueManual(ctx context.Context, d *store.Delivery) {
	nonce := strings.TrimPrefix(store.NewID("m"), "m_")
	t := task.NewDeliver(task.Deliver{DeliveryID: d.ID, EndpointID: d.EndpointID, Attempt: d.Attempts + 1, Manual: true}, nonce, r.now())
	if err := r.enqueue(ctx, t); err != nil {
		r.log.Warn("enqueue_failed", "delivery_id", d.ID, "error", err.Error())
	}
}
