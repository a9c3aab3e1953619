package relay_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/task"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// rekeyWorld is a database with sources and endpoints sealed with key k1,
// one of each left in plaintext as migration 0007 leaves them, and an
// endpoint server recording the custom headers it receives.
type rekeyWorld struct {
	db      *bun.DB
	st      *store.Store
	k1, k2  string
	srv     *httptest.Server
	got     chan http.Header
	tokens  map[string]string // source id → ingest token
	headers map[string]string // header values every endpoint carries
}

const legacyToken = "in_legacyplaintexttoken0123456789"

func newRekeyWorld(t *testing.T) *rekeyWorld {
	t.Helper()
	db, _ := testenv.Postgres(t)
	w := &rekeyWorld{db: db, st: store.New(db), k1: secret.NewKey("k1"), k2: secret.NewKey("k2"),
		got: make(chan http.Header, 10), tokens: map[string]string{},
		headers: map[string]string{"Authorization": "Bearer rekey-credential-0123", "X-Api-Key": "rekey-api-key-4567"}}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.got <- r.Header.Clone()
	}))
	t.Cleanup(w.srv.Close)
	ctx := context.Background()
	r := w.relay(t, w.k1)
	for _, team := range []string{"team_a", "team_b"} {
		testenv.Must(t, w.st.CreateTeam(ctx, &store.Team{ID: team, Name: team}))
	}
	for i := range 5 {
		team := []string{"team_a", "team_b"}[i%2]
		a := relay.SystemActor(team)
		name, kind, sec := "s", "stripe", "whsec_rekey_test_secret_0123456789"
		src, err := r.CreateSource(ctx, a, relay.SourceInput{Name: &name, Provider: &kind, Secret: &sec})
		testenv.Must(t, err)
		w.tokens[src.ID] = src.IngestToken
		url, ids, h := w.srv.URL, []string{src.ID}, w.headers
		_, _, err = r.CreateEndpoint(ctx, a, relay.EndpointInput{URL: &url, SourceIDs: &ids, Headers: &h})
		testenv.Must(t, err)
	}
	// What migration 0007 leaves of rows from before it: a plaintext token
	// (with its hash) and plaintext header values.
	var first string
	testenv.Must(t, db.NewRaw("SELECT min(id) FROM sources").Scan(ctx, &first))
	_, err := db.ExecContext(ctx, `UPDATE sources SET ingest_token = ?, ingest_token_sealed = NULL,
		ingest_token_hash = sha256(convert_to(?, 'UTF8')) WHERE id = ?`, legacyToken, legacyToken, first)
	testenv.Must(t, err)
	w.tokens[first] = legacyToken
	_, err = db.ExecContext(ctx, `UPDATE endpoints SET headers = '{"Authorization": "Bearer legacy-credential-89"}'
		WHERE id = (SELECT min(id) FROM endpoints)`)
	testenv.Must(t, err)
	return w
}

func (w *rekeyWorld) relay(t *testing.T, keys string) *relay.Relay {
	t.Helper()
	box, err := secret.ParseKeys(keys)
	testenv.Must(t, err)
	guard := delivery.NewGuard([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
	return relay.New(relay.Deps{Store: w.st, Box: box, Enqueuer: &taskLog{}, Guard: guard,
		Client: delivery.NewClient(delivery.ClientOptions{Guard: guard, UserAgent: "hookrelay/test"})}, relay.Options{})
}

// onOldKeys counts the values not sealed with kid: secrets, tokens,
// header values, plaintext included.
func (w *rekeyWorld) onOldKeys(t *testing.T, kid string) int {
	t.Helper()
	var n int
	testenv.Must(t, w.db.NewRaw(`SELECT
		(SELECT count(*) FROM sources, jsonb_array_elements(secrets) s WHERE s->>'kid' <> ?0)
		+ (SELECT count(*) FROM sources WHERE ingest_token IS NOT NULL OR split_part(ingest_token_sealed, ':', 2) <> ?0)
		+ (SELECT count(*) FROM endpoints, jsonb_array_elements(secrets) s WHERE s->>'kid' <> ?0)
		+ (SELECT count(*) FROM endpoints, jsonb_each_text(headers) h WHERE split_part(h.value, ':', 2) <> ?0 OR h.value NOT LIKE 'enc1:%')`,
		kid).Scan(context.Background(), &n))
	return n
}

func (w *rekeyWorld) auditRows(t *testing.T) []store.AuditEntry {
	t.Helper()
	var rows []store.AuditEntry
	testenv.Must(t, w.db.NewSelect().Model(&rows).Where("action = 'secrets.rekey'").Order("id").Scan(context.Background()))
	return rows
}

// Rekeying moves every sealed value to the newest key in audited batches;
// interrupted, a second run finishes the job; then the old key can go.
func TestRekeyResumesAndRetiresTheOldKey(t *testing.T) {
	w := newRekeyWorld(t)
	ctx := context.Background()
	before := w.onOldKeys(t, "k2")
	if before == 0 {
		t.Fatal("nothing to rekey")
	}

	// Interrupted after its first batch.
	r := w.relay(t, w.k2+","+w.k1)
	cctx, cancel := context.WithCancel(ctx)
	var seen []relay.RekeyProgress
	_, err := r.Rekey(cctx, relay.RekeyOptions{BatchSize: 2, Progress: func(p relay.RekeyProgress) {
		seen = append(seen, p)
		cancel()
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	if len(seen) != 1 || seen[0] != (relay.RekeyProgress{Table: "sources", Done: 2, Total: 5, Batch: 1}) {
		t.Fatalf("progress %+v", seen)
	}
	var sourcesOnK2 int
	testenv.Must(t, w.db.NewRaw(`SELECT count(*) FROM sources WHERE split_part(ingest_token_sealed, ':', 2) = 'k2'
		AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(secrets) s WHERE s->>'kid' <> 'k2')`).Scan(ctx, &sourcesOnK2))
	if sourcesOnK2 != 2 {
		t.Fatalf("%d sources re-keyed by the committed batch, want 2", sourcesOnK2)
	}
	// The batch's audit rows committed with it: one per team in it.
	audit := w.auditRows(t)
	if len(audit) != 2 {
		t.Fatalf("audit after one batch: %+v", audit)
	}
	for _, a := range audit {
		if a.Actor != "cli:secrets-rekey" || a.Details["key_id"] != "k2" || a.Details["count"] != float64(1) {
			t.Fatalf("audit row %+v", a)
		}
	}

	// The second run continues: it never touches the two done rows.
	seen = nil
	res, err := r.Rekey(ctx, relay.RekeyOptions{BatchSize: 2, Progress: func(p relay.RekeyProgress) { seen = append(seen, p) }})
	testenv.Must(t, err)
	if res.Sources != 3 || res.Endpoints != 5 || res.Batches != 5 {
		t.Fatalf("second run %+v, progress %+v", res, seen)
	}
	if last := seen[len(seen)-1]; last != (relay.RekeyProgress{Table: "endpoints", Done: 5, Total: 5, Batch: 5}) {
		t.Fatalf("last progress %+v", last)
	}
	if n := w.onOldKeys(t, "k2"); n != 0 {
		t.Fatalf("%d values still on old keys or in plaintext", n)
	}
	var ids []string
	for _, a := range w.auditRows(t) {
		for _, id := range a.Details["ids"].([]any) {
			ids = append(ids, id.(string))
		}
	}
	if len(ids) != 10 {
		t.Fatalf("audit rows name %d rows, want 10: %v", len(ids), ids)
	}
	// Nothing left: a third run changes and audits nothing.
	n := len(w.auditRows(t))
	if res, err := r.Rekey(ctx, relay.RekeyOptions{}); err != nil || res != (relay.RekeyResult{}) || len(w.auditRows(t)) != n {
		t.Fatalf("third run %+v %v", res, err)
	}

	// Only the new key now: everything opens, every ingest URL works, and
	// deliveries carry the custom headers.
	only := w.relay(t, w.k2)
	srcs, err := w.st.ListSources(ctx, "team_a")
	testenv.Must(t, err)
	more, err := w.st.ListSources(ctx, "team_b")
	testenv.Must(t, err)
	for _, src := range append(srcs, more...) {
		if got := only.IngestURL("https://relay.test", &src); got != "https://relay.test/in/"+w.tokens[src.ID] {
			t.Fatalf("ingest url of %s: %q", src.ID, got)
		}
		is, err := only.SourceForIngest(ctx, w.tokens[src.ID])
		if err != nil || is.Source.ID != src.ID {
			t.Fatalf("ingest lookup of %s: %v", src.ID, err)
		}
		if pts, err := only.RevealSecrets(ctx, relay.SystemActor(src.TeamID), "source", src.ID, src.Secrets); err != nil ||
			len(pts) != 1 || pts[0] != "whsec_rekey_test_secret_0123456789" {
			t.Fatalf("secrets of %s: %v", src.ID, err)
		}
	}
	eps, err := w.st.ListEndpoints(ctx, "team_a")
	testenv.Must(t, err)
	epsB, err := w.st.ListEndpoints(ctx, "team_b")
	testenv.Must(t, err)
	eps = append(eps, epsB...)
	slices.SortFunc(eps, func(a, b store.Endpoint) int { return strings.Compare(a.ID, b.ID) })
	for i, ep := range eps {
		if h := only.MaskSecrets(ep.ID, ep.Secrets); len(h) != 1 || h[0].Hint == "(unreadable)" {
			t.Fatalf("endpoint %s secrets %+v", ep.ID, h)
		}
		want := w.headers
		if i == 0 {
			want = map[string]string{"Authorization": "Bearer legacy-credential-89"}
		}
		got := w.deliver(t, only, ep)
		for k, v := range want {
			if got.Get(k) != v {
				t.Fatalf("endpoint %s got %s: %q, want %q", ep.ID, k, got.Get(k), v)
			}
		}
	}
	if d := w.dump(t); strings.Contains(d, "credential") || strings.Contains(d, "rekey-api-key") || strings.Contains(d, legacyToken) {
		t.Fatalf("plaintext left in the database:\n%s", d)
	}
}

// deliver stores an event for ep and makes its first attempt with r,
// returning the headers the endpoint received.
func (w *rekeyWorld) deliver(t *testing.T, r *relay.Relay, ep store.Endpoint) http.Header {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	e := &store.Event{ID: store.NewID("evt"), TeamID: ep.TeamID, SourceID: ep.SourceIDs[0], ReceivedAt: now,
		Body: []byte(`{"id":"evt_rekey"}`), Verified: true}
	_, err := w.st.InsertEvent(ctx, e)
	testenv.Must(t, err)
	d := store.Delivery{ID: store.NewID("dlv"), TeamID: ep.TeamID, EventID: e.ID, EndpointID: ep.ID,
		Status: store.StatusPending, NextAttemptAt: &now, CreatedAt: now, UpdatedAt: now}
	testenv.Must(t, w.st.InsertDeliveries(ctx, []store.Delivery{d}))
	testenv.Must(t, r.Deliver(ctx, task.Deliver{DeliveryID: d.ID, Attempt: 1}))
	got, err := w.st.GetDelivery(ctx, ep.TeamID, d.ID)
	testenv.Must(t, err)
	if got.Status != store.StatusSucceeded {
		t.Fatalf("delivery to %s: %+v", ep.ID, got)
	}
	select {
	case h := <-w.got:
		return h
	default:
		t.Fatal("the endpoint received nothing")
		return nil
	}
}

func (w *rekeyWorld) dump(t *testing.T) string {
	t.Helper()
	var rows []string
	for _, table := range []string{"sources", "endpoints", "audit_log", "delivery_attempts"} {
		var part []string
		testenv.Must(t, w.db.NewRaw("SELECT t::text FROM "+table+" t").Scan(context.Background(), &part))
		rows = append(rows, part...)
	}
	return strings.Join(rows, "\n")
}
