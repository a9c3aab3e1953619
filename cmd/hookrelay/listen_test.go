package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/hookrelay/hookrelay/api"
	"github.com/hookrelay/hookrelay/internal/provider"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/stripefixture"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// receiver is the developer's local app: it verifies each request with the
// standard-webhooks library under the session's secret and records it.
type receiver struct {
	// ready closes once the test read the session's secret from listen's
	// output: a replayed event may arrive before that.
	ready  chan struct{}
	mu     sync.Mutex
	secret string
	got    map[string]int // webhook-id → times received
	bad    []string
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	select {
	case <-rc.ready:
	case <-time.After(30 * time.Second):
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	wh, err := standardwebhooks.NewWebhook(rc.secret)
	if err == nil {
		err = wh.Verify(body, r.Header)
	}
	if err != nil {
		rc.bad = append(rc.bad, r.Header.Get("Webhook-Id")+": "+err.Error())
		w.WriteHeader(400)
		return
	}
	rc.got[r.Header.Get("Webhook-Id")]++
	w.WriteHeader(204)
}

func (rc *receiver) has(ids []string) bool {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, id := range ids {
		if rc.got[id] == 0 {
			return false
		}
	}
	return true
}

// `hookrelay listen` against a real relay on loopback: a replay of stored
// events, events ingested through /in/ forwarded as they are stored,
// signed for a local receiver that verifies them; then the relay restarts
// on the same port while events keep arriving, and after the client
// resumes every event has been forwarded exactly once.
func TestListenForwardsAndResumes(t *testing.T) {
	db, _ := testenv.Postgres(t)
	box, err := secret.ParseKeys(secret.NewKey("k1"))
	testenv.Must(t, err)
	st := store.New(db)
	r := relay.New(relay.Deps{Store: st, Box: box}, relay.Options{})
	ctx := context.Background()
	testenv.Must(t, st.CreateTeam(ctx, &store.Team{ID: "team_a", Name: "A"}))
	a := relay.SystemActor("team_a")
	name, kind, whsec := "Stripe", "stripe", "whsec_listentestsecret0000"
	src, err := r.CreateSource(ctx, a, relay.SourceInput{Name: &name, Provider: &kind, Secret: &whsec})
	testenv.Must(t, err)
	tok, _, err := r.CreateToken(ctx, a, "laptop", []string{"read"})
	testenv.Must(t, err)

	addr := freePort(t)
	serve := func() *fiber.App {
		app := api.New(api.Deps{Relay: r, Dispatcher: r.NewDispatcher(1, 100), MaxBodyBytes: 1 << 20, PublicURL: "http://" + addr})
		var ln net.Listener
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if ln, err = net.Listen("tcp", addr); err == nil || time.Now().After(deadline) {
				break
			}
		}
		testenv.Must(t, err)
		go func() { _ = app.Listener(ln) }()
		return app
	}
	app := serve()
	ingestURL := r.IngestURL("http://"+addr, src)
	post := func(typ string) string { // as Stripe would
		t.Helper()
		id := store.NewID("evt_stripe")
		body, err := stripefixture.Body(stripefixture.NewFlow(""), typ, id, time.Now())
		testenv.Must(t, err)
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: whsec, Timestamp: time.Now()})
		req, _ := http.NewRequest(http.MethodPost, ingestURL, bytes.NewReader(body))
		req.Header.Set("Stripe-Signature", signed.Header)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		testenv.Must(t, err)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("ingest %d", resp.StatusCode)
		}
		var e store.Event
		testenv.Must(t, db.NewSelect().Model(&e).Where("provider_event_id = ?", id).Scan(ctx))
		return e.ID
	}
	stored := func(ago time.Duration) string { // through the ingest path, not HTTP
		t.Helper()
		pid := store.NewID("evt_stripe")
		res, err := r.Ingest(ctx, []relay.Inbound{{Source: src, Body: []byte(`{"id":"` + pid + `"}`), ReceivedAt: time.Now().Add(-ago),
			Result: provider.Result{EventID: pid, EventType: "invoice.paid", Verified: true}}})
		testenv.Must(t, err)
		return res[0].EventID
	}
	old, replayed := stored(2*time.Hour), stored(30*time.Minute)

	rc := &receiver{got: map[string]int{}, ready: make(chan struct{})}
	local := httptest.NewServer(rc)
	defer local.Close()
	out := &syncBuffer{}
	lctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- run(lctx, []string{"hookrelay", "listen", "--server", "http://" + addr, "--token", tok,
			"--forward-to", local.URL + "/webhooks", "--replay", "1h"}, func(string) string { return "" }, out)
	}()
	defer func() {
		stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("listen: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("listen did not stop")
		}
	}()
	secretRE := regexp.MustCompile(`shown once\): (whsec_\S+)`)
	waitFor(t, "the session secret", func() bool { return secretRE.MatchString(out.String()) })
	rc.mu.Lock()
	rc.secret = secretRE.FindStringSubmatch(out.String())[1]
	rc.mu.Unlock()
	close(rc.ready)

	want := []string{replayed, post("checkout.session.completed"), post("payment_intent.succeeded")}
	waitFor(t, "the first events forwarded", func() bool { return rc.has(want) }, out.String)

	// The relay restarts; events arrive meanwhile and after.
	testenv.Must(t, app.ShutdownWithTimeout(5*time.Second))
	want = append(want, stored(0), stored(0))
	app = serve()
	defer func() { _ = app.ShutdownWithTimeout(5 * time.Second) }()
	want = append(want, post("charge.refunded"))
	waitFor(t, "every event forwarded after the restart", func() bool { return rc.has(want) }, out.String)

	rc.mu.Lock()
	defer rc.mu.Unlock()
	if len(rc.bad) > 0 || rc.got[old] != 0 || len(rc.got) != len(want) {
		t.Fatalf("received %v (want %d events, not %s), refused %v", rc.got, len(want), old, rc.bad)
	}
	for _, id := range want {
		if rc.got[id] != 1 {
			t.Fatalf("%s forwarded %d times", id, rc.got[id])
		}
	}
	if n := strings.Count(out.String(), "→ 204"); n != len(want) {
		t.Fatalf("%d lines with the local status, want %d:\n%s", n, len(want), out.String())
	}
}

// A token the relay refuses stops listen with the answer; bad flags are
// refused before anything is sent.
func TestListenRefusals(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer good" {
			http.Error(w, `{"error":{"code":"unauthorized"}}`, 401)
		}
	}))
	defer srv.Close()
	noenv := func(string) string { return "" }
	var out bytes.Buffer
	err := run(context.Background(), []string{"hookrelay", "listen", "--server", srv.URL, "--token", "bad", "--forward-to", "http://127.0.0.1:9/"}, noenv, &out)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("bad token: %v", err)
	}
	for _, args := range [][]string{{"--token", "t"}, {"--token", "t", "--forward-to", "localhost:3000"}, {"--token", "t", "--forward-to", "http://x/", "--replay", "soon"}} {
		if err := run(context.Background(), append([]string{"hookrelay", "listen"}, args...), noenv, &out); err == nil {
			t.Fatalf("%v accepted", args)
		}
	}
}

// waitFor waits (bounded) for cond; on a timeout it shows what the
// optional state functions report.
func waitFor(t *testing.T, what string, cond func() bool, state ...func() string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			var s []string
			for _, f := range state {
				s = append(s, f())
			}
			t.Fatalf("timed out waiting for %s\n%s", what, strings.Join(s, "\n"))
		}
	}
}
