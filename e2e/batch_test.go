package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// Concurrent requests share commits through the batcher; duplicates that
// land in the same batch still collapse to one event, and every
// acknowledged event is delivered once.
func TestConcurrentIngestSharesCommits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	src := e.stripeSource()
	s := &sink{}
	srv := httptest.NewServer(s)
	defer srv.Close()
	ep, _ := e.endpoint(srv.URL, src)
	const n = 60 // 30 distinct provider ids, each sent twice at once
	ids := make([]string, n)
	bodies := make([][]byte, n/2) // a provider's retry carries the same bytes
	for i := range bodies {
		bodies[i] = stripeEvent(fmt.Sprintf("evt_c%d", i), "invoice.paid")
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, resp := e.postStripe(src, bodies[i/2], stripeSecret, time.Now())
			if status != 200 {
				t.Errorf("request %d: %d %v", i, status, resp)
				return
			}
			ids[i] = resp["id"].(string)
		}()
	}
	wg.Wait()
	for i := 0; i < n; i += 2 {
		if ids[i] != ids[i+1] {
			t.Fatalf("same provider id got two events: %s and %s", ids[i], ids[i+1])
		}
	}
	if ev := e.count("events"); ev != n/2 {
		t.Fatalf("events = %d, want %d", ev, n/2)
	}
	for i := 0; i < n; i += 2 {
		e.waitDelivery(ids[i], ep.ID, store.StatusSucceeded)
	}
	if got := s.received(); got != n/2 {
		t.Fatalf("endpoint received %d, want %d", got, n/2)
	}
}

// lockTable holds a lock on table that blocks inserts (SHARE mode lets
// readers through) until the returned function is called.
func (e *env) lockTable(table string) (release func()) {
	e.t.Helper()
	tx, err := e.db.BeginTx(context.Background(), nil)
	testenv.Must(e.t, err)
	_, err = tx.ExecContext(context.Background(), "LOCK TABLE "+table+" IN SHARE MODE")
	testenv.Must(e.t, err)
	var once sync.Once
	release = func() { once.Do(func() { _ = tx.Rollback() }) }
	e.t.Cleanup(release)
	return release
}

// holdDeliveryRows makes every delivery row inserted from now on wait
// (a row trigger asks for an advisory lock the test holds) until the
// returned function is called. Unlike a table lock it holds back rows, not
// statements: a statement that inserts no delivery goes through.
func (e *env) holdDeliveryRows() (release func()) {
	e.t.Helper()
	ctx := context.Background()
	for _, q := range []string{
		`CREATE FUNCTION hold_delivery_row() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN PERFORM pg_advisory_xact_lock_shared(4711); RETURN NEW; END $$`,
		`CREATE TRIGGER hold_delivery_row BEFORE INSERT ON deliveries FOR EACH ROW EXECUTE FUNCTION hold_delivery_row()`,
	} {
		_, err := e.db.ExecContext(ctx, q)
		testenv.Must(e.t, err)
	}
	conn, err := e.db.Conn(ctx)
	testenv.Must(e.t, err)
	_, err = conn.ExecContext(ctx, "SELECT pg_advisory_lock(4711)")
	testenv.Must(e.t, err)
	var once sync.Once
	release = func() {
		once.Do(func() {
			_, _ = conn.ExecContext(ctx, "SELECT pg_advisory_unlock(4711)")
			_ = conn.Close()
		})
	}
	e.t.Cleanup(release)
	return release
}

// lockWaiters counts sessions of the test database waiting for a lock.
func (e *env) lockWaiters() int {
	e.t.Helper()
	var n int
	testenv.Must(e.t, e.db.NewRaw(`SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(context.Background(), &n))
	return n
}

// An event and its deliveries become visible together, before the
// provider's answer: a reader never sees an acknowledged (or any) event
// without its deliveries. Delivery rows are held back as they are
// inserted; while ingest waits on that, the event must not be visible yet.
func TestIngestCommitsDeliveriesWithEvent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{noWorker: true})
	src := e.stripeSource()
	ep, _ := e.endpoint("http://127.0.0.1:9/hook", src)
	release := e.holdDeliveryRows()
	answer := make(chan int, 1)
	go func() {
		status, _ := e.postStripe(src, stripeEvent("evt_atomic", "invoice.paid"), stripeSecret, time.Now())
		answer <- status
	}()
	waitFor(t, "ingest to wait on its delivery rows", func() bool { return e.lockWaiters() > 0 })
	// One statement, one snapshot: events and their deliveries as a reader sees them.
	visible := func() (events, deliveries int) {
		testenv.Must(t, e.db.NewRaw(`SELECT count(*), COALESCE(sum((SELECT count(*) FROM deliveries d
			WHERE d.event_id = ev.id)), 0) FROM events ev WHERE ev.provider_event_id = 'evt_atomic'`).
			Scan(context.Background(), &events, &deliveries))
		return events, deliveries
	}
	if ev, dl := visible(); ev != 0 {
		t.Fatalf("while its deliveries were not stored, a reader saw the event (%d events, %d deliveries)", ev, dl)
	}
	select {
	case status := <-answer:
		t.Fatalf("ingest answered %d before its deliveries were stored", status)
	default:
	}
	release()
	if status := <-answer; status != 200 {
		t.Fatalf("ingest: %d", status)
	}
	if ev, dl := visible(); ev != 1 || dl != 1 {
		t.Fatalf("after the answer: %d events, %d deliveries to %s, want 1 and 1", ev, dl, ep.ID)
	}
}

// Concurrent requests share a transaction. Commits are held up (a lock on
// events) until both batcher loops are waiting and every request has been
// written to the server, so the rest queue up; the events' xmin (the id of
// the transaction that stored them) then shows fewer transactions than
// events.
func TestConcurrentIngestBatchesTransactions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{noWorker: true})
	src := e.stripeSource()
	e.endpoint("http://127.0.0.1:9/hook", src)
	release := e.lockTable("events")
	const n = 24
	var written sync.WaitGroup
	written.Add(n)
	statuses := make(chan int, n)
	for i := range n {
		go func() {
			body := stripeEvent(fmt.Sprintf("evt_batch%d", i), "invoice.paid")
			sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: stripeSecret, Timestamp: time.Now()})
			var once sync.Once
			trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { once.Do(written.Done) }}
			req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace),
				http.MethodPost, e.baseURL+"/in/"+src.IngestToken, bytes.NewReader(body))
			if err != nil {
				once.Do(written.Done)
				statuses <- 0
				return
			}
			req.Header.Set("Stripe-Signature", sp.Header)
			resp, err := http.DefaultClient.Do(req)
			once.Do(written.Done)
			if err != nil {
				statuses <- 0
				return
			}
			_ = resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	written.Wait()
	waitFor(t, "commits to wait for the events lock", func() bool { return e.lockWaiters() > 0 })
	release()
	for range n {
		if s := <-statuses; s != 200 {
			t.Fatalf("ingest: %d", s)
		}
	}
	var events, txs int
	testenv.Must(t, e.db.NewRaw(`SELECT count(*), count(DISTINCT xmin::text) FROM events`).Scan(context.Background(), &events, &txs))
	if events != n || txs >= events {
		t.Fatalf("%d events stored by %d transactions: concurrent requests did not share commits", events, txs)
	}
	t.Logf("%d events in %d transactions", events, txs)
}
