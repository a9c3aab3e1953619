package browser_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Events that arrived while an endpoint was disabled are counted on its
// page and replayed from there (Count first, then Replay, followed on the
// bulk job's page) once each. Then the receiver fails until the server's
// worker opens the endpoint's circuit (its real breaker, made small by
// HOOKRELAY_BREAKER_*), and a delivery that circuit holds says so, and
// until when, on its page and its event's. Screenshots of both.
func TestReplayMissedAndHeldDelivery(t *testing.T) {
	// A small breaker, so a few failures open the circuit; a long
	// cool-down, so it stays open while the test looks.
	srv := startServer(t, "HOOKRELAY_BREAKER_THRESHOLD=3", "HOOKRELAY_BREAKER_MIN_DELIVERIES=3",
		"HOOKRELAY_BREAKER_COOLDOWN=10m")
	sk := newSink(t)
	b := newTabShots(t, srv.base, 3*time.Minute, false)
	b.n = 94 // after the phone overview's
	ctx := context.Background()

	// A source, and an endpoint on it that is disabled.
	b.open("/login")
	b.typeInto("#email", srv.email)
	b.typeInto("#password", srv.password)
	b.submit(`form[action="/login"] button[type="submit"]`)
	b.open("/sources/new")
	b.do("fill the source form", chromedp.SetValue(chromedp.CSS("#name"), "Stripe"),
		chromedp.SetValue(chromedp.CSS("#provider"), "stripe"), chromedp.SetValue(chromedp.CSS("#secret"), stripeSecret))
	b.submit(`form[action="/sources"] button[type="submit"]`)
	ingestURL := b.value("#ingest-url")
	sourceID := strings.TrimPrefix(b.path(), "/sources/")
	b.open("/endpoints/new")
	b.do("fill the endpoint form", chromedp.SetValue(chromedp.CSS("#url"), sk.url()),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name="source_ids"][value=%q]`, sourceID))))
	b.submit(`form[action="/endpoints"] button[type="submit"]`)
	epPath := b.path()
	epID := strings.TrimPrefix(epPath, "/endpoints/")
	if !strings.HasPrefix(epID, "ep_") {
		b.fail("endpoint not created: on %s", epPath)
	}
	b.submit(fmt.Sprintf(`form[action="%s/disable"] button[type="submit"]`, epPath))

	// Three events arrive while it is disabled: none is delivered to it.
	var events []string
	for i := range 3 {
		_, id := postStripe(t, ingestURL, fmt.Sprintf("evt_missed_%d", i), "invoice.paid")
		events = append(events, id)
	}
	n, err := srv.db.NewSelect().Table("deliveries").Where("endpoint_id = ?", epID).Count(ctx)
	if err != nil || n != 0 {
		t.Fatalf("deliveries to the disabled endpoint: %d, %v; want none", n, err)
	}

	// Its page counts them; enable it, count, replay, follow the job.
	b.open(epPath)
	b.waitText("#missed", 5*time.Second, true, "3 events arrived while this endpoint was disabled")
	b.submit(fmt.Sprintf(`form[action="%s/enable"] button[type="submit"]`, epPath))
	b.submit(`#replay button[value="preview"]`)
	b.waitText("#replay", 5*time.Second, false, "3 events since", "would be sent")
	b.shot("replay-count")
	b.submit(`#replay button[value="start"]`)
	if p := b.path(); !strings.HasPrefix(p, "/bulk/") {
		b.fail("Replay led to %s, want the bulk job's page", p)
	}
	b.waitText("[data-live]", 60*time.Second, true, "finished", "3 of 3 missed events replayed")
	b.shot("replay-job")

	// Each missed event has exactly one delivery to the endpoint, and it
	// reaches the sink (bounded wait on the rows, not a sleep).
	var rows []struct {
		EventID string `bun:"event_id"`
		N       int    `bun:"n"`
		OK      int    `bun:"ok"`
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		rows = rows[:0]
		err := srv.db.NewSelect().Table("deliveries").
			ColumnExpr("event_id, count(*) AS n, count(*) FILTER (WHERE status = 'succeeded') AS ok").
			Where("endpoint_id = ?", epID).Group("event_id").Order("event_id").Scan(ctx, &rows)
		if err != nil {
			t.Fatal(err)
		}
		done := len(rows) == len(events)
		for _, r := range rows {
			if r.N != 1 {
				t.Fatalf("event %s has %d deliveries to the endpoint, want exactly 1", r.EventID, r.N)
			}
			done = done && r.OK == 1
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replayed deliveries after 60s: %+v, want one succeeded for each of %v", rows, events)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for i, r := range rows {
		if !strings.Contains(strings.Join(events, " "), r.EventID) {
			t.Fatalf("row %d: delivery for %s, not one of the missed events %v", i, r.EventID, events)
		}
	}

	// A delivery held by the endpoint's open circuit, opened by the real
	// breaker in the server's worker: the receiver fails 3 deliveries in a
	// row (the server's HOOKRELAY_BREAKER_* make 3 of 3 enough), the
	// endpoint's page shows the circuit open, and an event that arrives
	// then is held, unsent, though the receiver is fine again.
	sk.setStatus(500)
	for i := range 3 {
		postStripe(t, ingestURL, fmt.Sprintf("evt_failing_%d", i), "invoice.paid")
	}
	b.open(epPath)
	b.waitText("main", 60*time.Second, true, "Circuit", "open", "deliveries wait until")
	sk.setStatus(200)
	_, held := postStripe(t, ingestURL, "evt_held", "invoice.paid")
	var dlv struct {
		ID       string `bun:"id"`
		Attempts int    `bun:"attempts"`
	}
	for deadline := time.Now().Add(60 * time.Second); ; {
		err := srv.db.NewSelect().Table("deliveries").Column("id", "attempts").
			Where("event_id = ? AND endpoint_id = ? AND status = 'pending' AND held_reason LIKE 'endpoint circuit open (%'", held, epID).
			Scan(ctx, &dlv)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the delivery of %s was not held by the open circuit within 60s: %v", held, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if dlv.Attempts != 0 {
		t.Fatalf("the held delivery %s made %d attempts, want none", dlv.ID, dlv.Attempts)
	}
	want := "held: endpoint circuit open (3 of 3 deliveries failing in the last 1m0s) until"
	b.open("/deliveries/" + dlv.ID)
	b.waitText("main", 5*time.Second, true, "pending", want)
	b.waitText("#redeliver-hint", 5*time.Second, true, "The endpoint's circuit is open: a new attempt waits until about")
	b.shot("held-delivery")
	b.open("/events/" + held)
	b.waitText("main", 5*time.Second, true, want)
}
