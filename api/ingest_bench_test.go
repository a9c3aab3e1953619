package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/hookrelay/hookrelay/api"
	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// BenchmarkIngestHandler is one signed Stripe event through the ingest
// handler (app.Test): source lookup, verification, the commit of event
// and delivery, the dispatch to Redis and the answer. It includes signing
// the request. `make bench` is the end-to-end measure; this one shows a
// regression in the handler's own cost (ns/op, allocs/op).
func BenchmarkIngestHandler(b *testing.B) {
	db, _ := testenv.Postgres(b)
	opt := testenv.Redis(b)
	box, err := secret.ParseKeys(secret.NewKey("k1"))
	testenv.Must(b, err)
	aq := asynq.NewClient(opt)
	defer aq.Close()
	r := relay.New(relay.Deps{Store: store.New(db), Box: box, Enqueuer: aq, Guard: loopbackGuard()},
		relay.Options{StripeTolerance: 5 * time.Minute, Version: "bench", BcryptCost: 4})
	disp := r.NewDispatcher(1, 1<<16)
	defer disp.Shutdown()
	app := api.New(api.Deps{Relay: r, Dispatcher: disp, MaxBodyBytes: 1 << 20, PublicURL: "http://relay.test"})
	ctx := context.Background()
	team := store.NewID("team")
	testenv.Must(b, store.New(db).CreateTeam(ctx, &store.Team{ID: team, Name: "bench"}))
	token, _, err := r.CreateToken(ctx, relay.SystemActor(team), "bench", nil)
	testenv.Must(b, err)
	call := func(path string, in, out any) {
		body, _ := json.Marshal(in)
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := app.Test(req, -1)
		testenv.Must(b, err)
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 || json.Unmarshal(raw, out) != nil {
			b.Fatalf("POST %s: %d %s", path, resp.StatusCode, raw)
		}
	}
	var src struct {
		ID        string `json:"id"`
		IngestURL string `json:"ingest_url"`
	}
	call("/api/v1/sources", map[string]any{"name": "bench", "provider": "stripe", "secret": stripeSecret}, &src)
	var ep struct{}
	call("/api/v1/endpoints", map[string]any{"url": "http://127.0.0.1:9/hook", "source_ids": []string{src.ID}}, &ep)
	path := strings.TrimPrefix(src.IngestURL, "http://relay.test")
	pad := strings.Repeat("x", 900) // about 1 KB, like make bench's events

	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		body := []byte(fmt.Sprintf(`{"id":"evt_bench_%d","object":"event","type":"invoice.paid","data":{"object":{"note":"%s"}}}`, i, pad))
		sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: stripeSecret, Timestamp: time.Now()})
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Stripe-Signature", sp.Header)
		resp, err := app.Test(req, -1)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("ingest: %v %v", resp, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
