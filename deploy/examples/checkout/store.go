package main

import (
	"context"
	"database/sql"
	"fmt"
	"log"

	"github.com/stripe/stripe-go/v76"
)

// migrate makes the app's tables. processed_events is the idempotency key:
// one row per Stripe event handled. orders is one row per fulfilled
// checkout session, so even two different events about one session (say
// completed, then async_payment_succeeded) ship it once.
func migrate(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, `
CREATE TABLE IF NOT EXISTS processed_events (
    event_id     text PRIMARY KEY,
    processed_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS orders (
    session_id     text PRIMARY KEY,
    event_id       text NOT NULL,
    customer       text,
    email          text,
    amount_total   bigint NOT NULL,
    currency       text NOT NULL,
    fulfilled_at   timestamptz NOT NULL DEFAULT now()
)`)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// fulfil records event eventID and ships session cs unless either was seen
// before, in one transaction.
func fulfil(ctx context.Context, db *sql.DB, eventID string, cs *stripe.CheckoutSession) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO processed_events (event_id) VALUES ($1) ON CONFLICT DO NOTHING`, eventID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // handled before: a redelivery
	}
	var customer, email string
	if cs.Customer != nil {
		customer = cs.Customer.ID
	}
	if cs.CustomerDetails != nil {
		email = cs.CustomerDetails.Email
	}
	res, err = tx.ExecContext(ctx, `INSERT INTO orders (session_id, event_id, customer, email, amount_total, currency)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, cs.ID, eventID, customer, email, cs.AmountTotal, string(cs.Currency))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		// A new order: ship it here (email, warehouse call); this runs
		// once per session. Errors roll back, and hookrelay retries.
		log.Printf("checkout: order %s fulfilled (event %s)", cs.ID, eventID)
	}
	return tx.Commit()
}
