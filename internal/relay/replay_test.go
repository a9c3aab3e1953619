package relay_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/provider"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/task"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// receiver records the webhook ids it was sent, per path.
type receiver struct {
	mu   sync.Mutex
	got  map[string][]string
	gone bool // answer 410
	// wait, when set, holds each request until it is closed.
	wait chan struct{}
	n    int
	all  int // close wait once this many requests arrived
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	rc.got[r.URL.Path] = append(rc.got[r.URL.Path], r.Header.Get("Webhook-Id"))
	wait := rc.wait
	if rc.n++; wait != nil && rc.n == rc.all {
		close(wait)
	}
	rc.mu.Unlock()
	if wait != nil {
		select {
		case <-wait:
		case <-time.After(30 * time.Second):
		}
	}
	if rc.gone {
		w.WriteHeader(http.StatusGone)
	}
}

func (rc *receiver) count(path string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.got[path])
}

// ingestWorld is a team with two sources, the real ingest path, and
// endpoints (signing "none") on a loopback receiver.
type ingestWorld struct {
	r    *relay.Relay
	st   *store.Store
	log  *taskLog
	rc   *receiver
	url  string
	src  [2]*store.Source
	team string
}

func newIngestWorld(t *testing.T) *ingestWorld {
	t.Helper()
	db, _ := testenv.Postgres(t)
	w := &ingestWorld{st: store.New(db), log: &taskLog{}, rc: &receiver{got: map[string][]string{}}, team: "team_a"}
	srv := httptest.NewServer(w.rc)
	t.Cleanup(srv.Close)
	w.url = srv.URL
	guard := delivery.NewGuard([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
	w.r = relay.New(relay.Deps{Store: w.st, Enqueuer: w.log, Guard: guard,
		Client: delivery.NewClient(delivery.ClientOptions{Guard: guard, UserAgent: "hookrelay/test"})}, relay.Options{})
	ctx := context.Background()
	testenv.Must(t, w.st.CreateTeam(ctx, &store.Team{ID: w.team, Name: "A"}))
	for i := range w.src {
		src, err := w.st.GetSource(ctx, w.team, bulkSource(t, w.st, w.team))
		testenv.Must(t, err)
		w.src[i] = src
	}
	return w
}

func (w *ingestWorld) endpoint(t *testing.T, path string, types []string, srcs ...string) string {
	t.Helper()
	now := time.Now()
	ep := &store.Endpoint{ID: store.NewID("ep"), TeamID: w.team, URL: w.url + path, Enabled: true, SigningScheme: "none",
		EventTypes: types, SourceIDs: srcs, CreatedAt: now, UpdatedAt: now}
	testenv.Must(t, w.st.CreateEndpoint(context.Background(), ep))
	return ep.ID
}

// ingest stores one event per type from src through the real ingest path.
func (w *ingestWorld) ingest(t *testing.T, src *store.Source, types ...string) []string {
	t.Helper()
	in := make([]relay.Inbound, len(types))
	for i, typ := range types {
		in[i] = relay.Inbound{Source: src, Result: provider.Result{EventID: store.NewID("pe"), EventType: typ, Verified: true},
			Body: []byte(`{"type":"` + typ + `"}`), ContentType: "application/json", ReceivedAt: time.Now()}
	}
	res, err := w.r.Ingest(context.Background(), in)
	testenv.Must(t, err)
	ids := make([]string, len(res))
	for i, x := range res {
		ids[i] = x.EventID
	}
	return ids
}

// deliverQueued runs every queued delivery task (and steps of bulk jobs)
// until none is left.
func (w *ingestWorld) deliverQueued(t *testing.T) {
	t.Helper()
	for {
		runSteps(t, w.r, w.log)
		ts := w.log.take(task.TypeDeliver)
		if len(ts) == 0 {
			return
		}
		for _, tk := range ts {
			p, err := task.ParseDeliver(tk)
			testenv.Must(t, err)
			testenv.Must(t, w.r.Deliver(context.Background(), p))
		}
	}
}

// deliveriesTo maps each event to its deliveries' statuses at ep.
func (w *ingestWorld) deliveriesTo(t *testing.T, ep string) map[string][]string {
	t.Helper()
	var rows []struct {
		EventID string `bun:"event_id"`
		Status  string `bun:"status"`
		OK      bool   `bun:"ok"`
	}
	testenv.Must(t, w.st.DB().NewRaw(`SELECT d.event_id, d.status, e.received_at = d.created_at AS ok FROM deliveries d
		JOIN events e ON e.id = d.event_id WHERE d.endpoint_id = ? ORDER BY d.id`, ep).Scan(context.Background(), &rows))
	out := map[string][]string{}
	for _, r := range rows {
		if !r.OK {
			t.Errorf("delivery of %s: created_at is not the event's received_at", r.EventID)
		}
		out[r.EventID] = append(out[r.EventID], r.Status)
	}
	return out
}

// An endpoint disabled during a burst misses the events; a replay gives
// each missed event that matches its sources and filters exactly one
// delivery, which is sent; a second replay finds nothing.
func TestReplayMissedEvents(t *testing.T) {
	w := newIngestWorld(t)
	ctx := context.Background()
	a := relay.Actor{TeamID: w.team, Kind: "user", ID: "ann@example.com"}
	ep := w.endpoint(t, "/ep", []string{"invoice.*", "charge.succeeded"}, w.src[0].ID)
	other := w.endpoint(t, "/other", nil, w.src[0].ID, w.src[1].ID)

	before := w.ingest(t, w.src[0], "invoice.paid") // delivered before the trouble
	w.deliverQueuedAfterSweep(t)
	_, err := w.r.SetEndpointEnabled(ctx, a, ep, false)
	testenv.Must(t, err)
	missed := w.ingest(t, w.src[0], "invoice.paid", "charge.succeeded", "invoice.created", "invoice.paid")
	skipped := w.ingest(t, w.src[0], "customer.created", "invoicex") // not its types
	w.ingest(t, w.src[1], "invoice.paid")                            // not its source
	for _, id := range append(append([]string{}, missed...), skipped...) {
		if got := w.deliveriesTo(t, ep)[id]; len(got) != 0 {
			t.Fatalf("disabled endpoint got a delivery of %s: %v", id, got)
		}
	}
	epRow, err := w.st.GetEndpoint(ctx, w.team, ep)
	testenv.Must(t, err)
	if n, more, err := w.r.MissedEvents(ctx, epRow); err != nil || n != len(missed) || more {
		t.Fatalf("missed while disabled = %d (more %v), %v; want %d", n, more, err, len(missed))
	}

	// Disabled: a preview is fine, a start is refused and changes nothing.
	p, err := w.r.PreviewReplay(ctx, a, ep, relay.ReplayInput{})
	testenv.Must(t, err)
	if p.Events != len(missed) || p.Failed != 0 || !p.Since.Equal(*epRow.LastDisabledAt) {
		t.Fatalf("preview %+v, want %d events since %v", p, len(missed), epRow.LastDisabledAt)
	}
	var ve *relay.ValidationError
	if _, err := w.r.StartReplay(ctx, a, ep, relay.ReplayInput{}); !errors.As(err, &ve) || ve.Field != "endpoint" {
		t.Fatalf("replay into a disabled endpoint: %v", err)
	}
	_, err = w.r.SetEndpointEnabled(ctx, a, ep, true)
	testenv.Must(t, err)
	epRow, err = w.st.GetEndpoint(ctx, w.team, ep)
	testenv.Must(t, err)
	if n, _, _ := w.r.MissedEvents(ctx, epRow); n != len(missed) {
		t.Fatalf("missed after re-enabling = %d, want %d (the window is kept)", n, len(missed))
	}
	if _, err := w.r.StartReplay(ctx, a, ep, relay.ReplayInput{Since: time.Now().Add(time.Hour)}); !errors.As(err, &ve) || ve.Field != "since" {
		t.Fatalf("since in the future: %v", err)
	}

	j, err := w.r.StartReplayThrottled(ctx, a, ep, relay.ReplayInput{}, relay.BulkThrottle{Batch: 3})
	testenv.Must(t, err)
	if j.Kind != relay.BulkKindReplay || j.Total != len(missed) || j.Status != store.BulkRunning {
		t.Fatalf("job %+v", j)
	}
	w.deliverQueued(t)
	got := w.deliveriesTo(t, ep)
	for _, id := range missed {
		if !slices.Equal(got[id], []string{store.StatusSucceeded}) {
			t.Errorf("missed event %s: deliveries %v, want exactly one, succeeded", id, got[id])
		}
	}
	if len(got) != len(missed)+len(before) {
		t.Errorf("deliveries to the endpoint for %d events, want %d: %v", len(got), len(missed)+len(before), got)
	}
	if n := w.rc.count("/ep"); n != len(missed)+len(before) {
		t.Errorf("endpoint received %d requests, want %d", n, len(missed)+len(before))
	}
	j, err = w.st.GetBulkJob(ctx, w.team, j.ID)
	testenv.Must(t, err)
	if j.Status != store.BulkFinished || j.Done != len(missed) {
		t.Fatalf("job after the run %+v", j)
	}
	rows, err := w.st.ListAudit(ctx, store.AuditFilter{TeamID: w.team, Action: "endpoint.replay"})
	testenv.Must(t, err)
	if len(rows) != 1 || rows[0].TargetID != ep || rows[0].Details["events"] != float64(len(missed)) ||
		rows[0].Details["bulk_job_id"] != j.ID {
		t.Fatalf("replay audit %+v", rows)
	}

	// Nothing is missed any more: a second replay creates nothing.
	if n, _, _ := w.r.MissedEvents(ctx, epRow); n != 0 {
		t.Fatalf("missed after the replay = %d", n)
	}
	if _, err := w.r.StartReplay(ctx, a, ep, relay.ReplayInput{}); !errors.As(err, &ve) {
		t.Fatalf("second replay: %v", err)
	}
	w.deliverQueued(t)
	if again := w.deliveriesTo(t, ep); len(again) != len(got) {
		t.Fatalf("second replay made deliveries: %v", again)
	}
	if n := len(w.deliveriesTo(t, other)); n != 1+len(missed)+len(skipped)+1 {
		t.Fatalf("the other endpoint has deliveries for %d events", n)
	}

	// include_failed re-queues a failed delivery instead of adding one.
	_, err = w.st.DB().NewRaw(`UPDATE deliveries SET status = 'failed' WHERE endpoint_id = ? AND event_id = ?`, ep, missed[1]).Exec(ctx)
	testenv.Must(t, err)
	if p, _ := w.r.PreviewReplay(ctx, a, ep, relay.ReplayInput{}); p.Events != 0 {
		t.Fatalf("preview without include_failed %+v", p)
	}
	p, err = w.r.PreviewReplay(ctx, a, ep, relay.ReplayInput{IncludeFailed: true})
	if err != nil || p.Events != 1 || p.Failed != 1 {
		t.Fatalf("preview with include_failed %+v, %v", p, err)
	}
	_, err = w.r.StartReplay(ctx, a, ep, relay.ReplayInput{IncludeFailed: true})
	testenv.Must(t, err)
	w.deliverQueued(t)
	if got := w.deliveriesTo(t, ep)[missed[1]]; !slices.Equal(got, []string{store.StatusSucceeded}) {
		t.Fatalf("failed delivery after include_failed replay: %v, want the same one succeeded", got)
	}
}

// deliverQueuedAfterSweep queues what ingest left due (the API's
// dispatcher would have) through the sweeper, then delivers it.
func (w *ingestWorld) deliverQueuedAfterSweep(t *testing.T) {
	t.Helper()
	_, err := w.r.Sweep(context.Background())
	testenv.Must(t, err)
	w.deliverQueued(t)
}

// Two replays into one endpoint at once never both give an event a
// delivery: a step waits for the other's transaction (the replay lock),
// then finds the events delivered.
func TestConcurrentReplaysMakeOneDeliveryEach(t *testing.T) {
	w := newIngestWorld(t)
	ctx := context.Background()
	a := relay.SystemActor(w.team)
	ep := w.endpoint(t, "/ep", nil, w.src[0].ID)
	_, err := w.r.SetEndpointEnabled(ctx, a, ep, false)
	testenv.Must(t, err)
	missed := w.ingest(t, w.src[0], "a", "b", "c")
	_, err = w.r.SetEndpointEnabled(ctx, a, ep, true)
	testenv.Must(t, err)
	j, err := w.r.StartReplay(ctx, a, ep, relay.ReplayInput{})
	testenv.Must(t, err)
	w.log.take(task.TypeBulkRedeliver)

	// Another replay's step, caught inside its transaction: it holds the
	// lock and has given every event a delivery, not yet committed.
	inside, release, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- w.st.Tx(ctx, func(tx *store.Store) error {
			if err := tx.LockReplay(ctx, ep); err != nil {
				return err
			}
			now := time.Now()
			var ds []store.Delivery
			for _, id := range missed {
				e, err := tx.GetEvent(ctx, w.team, id)
				if err != nil {
					return err
				}
				ds = append(ds, store.Delivery{ID: store.NewID("dlv"), TeamID: w.team, EventID: id, EndpointID: ep,
					Status: store.StatusPending, NextAttemptAt: &now, CreatedAt: e.ReceivedAt, UpdatedAt: now})
			}
			if err := tx.InsertDeliveries(ctx, ds); err != nil {
				return err
			}
			close(inside)
			<-release
			return nil
		})
	}()
	<-inside
	stepped := make(chan error, 1)
	go func() { stepped <- w.r.BulkStep(ctx, task.BulkRedeliver{JobID: j.ID}) }()
	// The signal: the step waits on the lock (or, without one, it is done).
	deadline := time.Now().Add(30 * time.Second)
	for waiting := false; !waiting; {
		select {
		case err := <-stepped:
			stepped <- err
			waiting = true
		default:
			var n int
			testenv.Must(t, w.st.DB().NewRaw(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
				AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(ctx, &n))
			waiting = n > 0
			if time.Now().After(deadline) {
				t.Fatal("the step neither waited nor finished")
			}
		}
	}
	close(release)
	testenv.Must(t, <-done)
	testenv.Must(t, <-stepped)
	got := w.deliveriesTo(t, ep)
	for _, id := range missed {
		if len(got[id]) != 1 {
			t.Errorf("event %s has %d deliveries, want 1", id, len(got[id]))
		}
	}
}
