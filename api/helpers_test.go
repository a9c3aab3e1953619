package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"
	"github.com/stripe/stripe-go/v76/webhook"
	"github.com/uptrace/bun"

	"github.com/hookrelay/hookrelay/api"
	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/task"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// testIP is the client address Fiber's app.Test connection reports.
const testIP = "0.0.0.0"

// stripeSecret is the signing secret of the Stripe sources tests create.
const stripeSecret = "whsec_test0123456789abcdefghijklmnop"

// env is one app over a fresh database and Redis DB, with a team and a
// read-write token.
type env struct {
	t       *testing.T
	db      *bun.DB
	st      *store.Store
	relay   *relay.Relay
	app     *fiber.App
	redis   asynq.RedisClientOpt
	team    string
	token   string // read-write token of team
	tokenID string
}

type envOptions struct {
	guard *delivery.Guard
	ready map[string]func(context.Context) error
	// now is the relay's clock (nil: time.Now).
	now func() time.Time
}

// loopbackGuard lets endpoints point at httptest servers.
func loopbackGuard() *delivery.Guard {
	return delivery.NewGuard([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")})
}

func newEnv(t *testing.T) *env { return newEnvWith(t, envOptions{guard: loopbackGuard()}) }

// newEnvWith builds the app as cmd/hookrelay/app.go does.
func newEnvWith(t *testing.T, o envOptions) *env {
	t.Helper()
	db, _ := testenv.Postgres(t)
	opt := testenv.Redis(t)
	box, err := secret.ParseKeys(secret.NewKey("k1"))
	testenv.Must(t, err)
	aq := asynq.NewClient(opt)
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { _ = aq.Close(); _ = insp.Close() })
	client := delivery.NewClient(delivery.ClientOptions{Guard: o.guard, UserAgent: "hookrelay/test"})
	r := relay.New(relay.Deps{Store: store.New(db), Box: box, Enqueuer: aq, Inspector: insp, Client: client, Guard: o.guard, Now: o.now},
		relay.Options{StripeTolerance: 5 * time.Minute, Version: "test", BcryptCost: 4})
	disp := r.NewDispatcher(1, 100)
	t.Cleanup(disp.Shutdown) // registered after the Redis clients: runs before they close
	app := api.New(api.Deps{Relay: r, Dispatcher: disp, MaxBodyBytes: 1 << 20, PublicURL: "http://relay.test", Ready: o.ready})
	e := &env{t: t, db: db, st: store.New(db), relay: r, app: app, redis: opt}
	e.team, e.token, e.tokenID = e.newTeam("Team A")
	return e
}

// newTeam creates a team and a token with the given scopes (default read+write).
func (e *env) newTeam(name string, scopes ...string) (teamID, token, tokenID string) {
	e.t.Helper()
	teamID = store.NewID("team")
	testenv.Must(e.t, e.st.CreateTeam(context.Background(), &store.Team{ID: teamID, Name: name}))
	token, tokenID = e.newToken(teamID, scopes...)
	return teamID, token, tokenID
}

func (e *env) newToken(teamID string, scopes ...string) (token, tokenID string) {
	e.t.Helper()
	tok, row, err := e.relay.CreateToken(context.Background(), relay.SystemActor(teamID), "test", scopes)
	testenv.Must(e.t, err)
	return tok, row.ID
}

// response is a finished request: status, raw body and headers.
type response struct {
	Status int
	Body   []byte
	Header http.Header
}

// JSON decodes the body into v, failing the test when it is not JSON.
func (r response) JSON(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("body is not JSON (%v): %s", err, r.Body)
	}
}

// obj is a decoded JSON object.
type obj = map[string]any

// do sends a request with a bearer token ("" for none). body is sent as is
// when it is a string or []byte, else marshalled to JSON.
func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		testenv.Must(e.t, err)
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.send(req)
}

func (e *env) send(req *http.Request) response {
	e.t.Helper()
	res, err := e.app.Test(req, -1)
	testenv.Must(e.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	testenv.Must(e.t, err)
	checkOpenAPI(e.t, req, res.StatusCode, res.Header, b) // every /api/v1 answer matches api/openapi.json
	return response{Status: res.StatusCode, Body: b, Header: res.Header}
}

// call sends a request with the env's write token, wants status and
// decodes a JSON answer into out (when not nil).
func (e *env) call(method, path string, body any, status int, out any) response {
	e.t.Helper()
	r := e.do(method, path, e.token, body)
	if r.Status != status {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, status, r.Body)
	}
	if out != nil {
		if m, ok := out.(*obj); ok {
			*m = nil // decoding into a used map would keep keys the answer omits
		}
		r.JSON(e.t, out)
	}
	return r
}

// wantError checks the status and the JSON error shape; it returns the message.
func wantError(t *testing.T, r response, status int, code string) string {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	var got struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	r.JSON(t, &got)
	if got.Error == nil || got.Error.Code != code || got.Error.Message == "" {
		t.Fatalf("error body %s, want code %q and a message", r.Body, code)
	}
	return got.Error.Message
}

// auditRows reads audit rows straight from the database.
func (e *env) auditRows(action, targetID string) []store.AuditEntry {
	e.t.Helper()
	var rows []store.AuditEntry
	q := e.db.NewSelect().Model(&rows).Where("action = ?", action)
	if targetID != "" {
		q = q.Where("target_id = ?", targetID)
	}
	testenv.Must(e.t, q.Order("id").Scan(context.Background()))
	return rows
}

// auditCount counts every audit row of a team.
func (e *env) auditCount(teamID string) int64 {
	e.t.Helper()
	n, err := e.db.NewSelect().Model((*store.AuditEntry)(nil)).Where("team_id = ?", teamID).Count(context.Background())
	testenv.Must(e.t, err)
	return n
}

// wantAudit checks that exactly one row records action on targetID by the
// env's token from the test client's address, and returns it.
func (e *env) wantAudit(action, targetID string) store.AuditEntry {
	e.t.Helper()
	rows := e.auditRows(action, targetID)
	if len(rows) != 1 {
		e.t.Fatalf("audit %s %s: %d rows, want 1: %+v", action, targetID, len(rows), rows)
	}
	a := rows[0]
	if a.Actor != "token:"+e.tokenID || a.TeamID != e.team || a.IP != testIP || a.At.IsZero() {
		e.t.Fatalf("audit %s %s: %+v, want actor token:%s, team %s, ip %s", action, targetID, a, e.tokenID, e.team, testIP)
	}
	return a
}

// createSource creates a Stripe source and returns its view.
func (e *env) createSource(name string) obj {
	e.t.Helper()
	var src obj
	e.call("POST", "/api/v1/sources", obj{"name": name, "provider": "stripe", "secret": stripeSecret}, 201, &src)
	return src
}

// createEndpoint creates an endpoint subscribed to sourceIDs.
func (e *env) createEndpoint(url string, eventTypes []string, sourceIDs ...string) obj {
	e.t.Helper()
	var ep obj
	e.call("POST", "/api/v1/endpoints", obj{"url": url, "event_types": eventTypes, "source_ids": sourceIDs}, 201, &ep)
	return ep
}

// ingestStripe posts a Stripe event signed with stripeSecret to a
// source's ingest URL and returns the hookrelay event id.
func (e *env) ingestStripe(ingestURL, id, typ string) string {
	e.t.Helper()
	body := []byte(`{"id":"` + id + `","object":"event","type":"` + typ + `","data":{"object":{"amount":1200}}}`)
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: stripeSecret, Timestamp: time.Now()})
	req := httptest.NewRequest("POST", strings.TrimPrefix(ingestURL, "http://relay.test"), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", sp.Header)
	r := e.send(req)
	if r.Status != 200 {
		e.t.Fatalf("ingest %s: status %d: %s", id, r.Status, r.Body)
	}
	var out struct {
		ID string `json:"id"`
	}
	r.JSON(e.t, &out)
	return out.ID
}

// deliveryStatus reads a delivery's status from the database.
func (e *env) deliveryStatus(id string) string {
	e.t.Helper()
	var s string
	testenv.Must(e.t, e.db.NewRaw("SELECT status FROM deliveries WHERE id = ?", id).Scan(context.Background(), &s))
	return s
}

// manualTasks lists the manual delivery tasks pending in Redis for a delivery.
func (e *env) manualTasks(deliveryID string) int {
	e.t.Helper()
	insp := asynq.NewInspector(e.redis)
	defer insp.Close()
	tasks, err := insp.ListPendingTasks(task.QueueDeliveries)
	if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
		e.t.Fatal(err)
	}
	n := 0
	for _, ti := range tasks {
		var p task.Deliver
		if json.Unmarshal(ti.Payload, &p) == nil && p.DeliveryID == deliveryID && p.Manual {
			n++
		}
	}
	return n
}

// str reads a string field of a decoded object.
func str(o obj, key string) string {
	s, _ := o[key].(string)
	return s
}

// list reads the "data" array of a list answer.
func list(t *testing.T, r response) []obj {
	t.Helper()
	var out struct {
		Data []obj `json:"data"`
	}
	r.JSON(t, &out)
	return out.Data
}

// ids lists the "id" of each object.
func ids(os []obj) []string {
	out := make([]string, len(os))
	for i, o := range os {
		out[i] = str(o, "id")
	}
	return out
}
