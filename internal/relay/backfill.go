package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/hookrelay/hookrelay/internal/provider"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/task"
)

// StripeEventRetention is how far back Stripe's Events API lists events:
// a backfill cannot reach further.
const StripeEventRetention = 30 * 24 * time.Hour

// BackfillHeader marks a stored event that a backfill fetched from
// Stripe's API instead of receiving it as a webhook; its value is the job.
const BackfillHeader = "X-Hookrelay-Backfill"

// apiKeyAD binds a sealed API key to its source.
func apiKeyAD(sourceID string) []byte { return []byte(sourceID + "/api_key") }

// setAPIKey seals key into src ("" removes it) and names the change for
// the audit row; the key itself is never in it.
func (r *Relay) setAPIKey(src *store.Source, key string) (string, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		src.APIKeySealed = ""
		return "removed", nil
	}
	if src.Provider != provider.Stripe {
		return "", invalid("api_key", "only a Stripe source takes an API key")
	}
	if !strings.HasPrefix(key, "rk_") && !strings.HasPrefix(key, "sk_") || len(key) < 16 || len(key) > 255 ||
		strings.ContainsAny(key, " \t\r\n") {
		return "", invalid("api_key", "must be a Stripe API key: a restricted key (rk_…) with read access to Events")
	}
	if r.box == nil {
		return "", errors.New("relay: no encryption key configured")
	}
	src.APIKeySealed = r.box.SealString(key, apiKeyAD(src.ID))
	return "set", nil
}

// stripeClient is a stripe-go client for key, on Stripe's API or on
// Options.StripeAPIURL (stripe-mock in tests), dialling through the SSRF
// guard like every outbound request.
func (r *Relay) stripeClient(key string) *client.API {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return err
			}
			return r.guard.Check(ap.Addr().Unmap())
		}}
	hc := &http.Client{Timeout: 80 * time.Second, Transport: &http.Transport{Proxy: nil, DialContext: dialer.DialContext,
		TLSHandshakeTimeout: 10 * time.Second, ForceAttemptHTTP2: true}}
	cfg := &stripe.BackendConfig{HTTPClient: hc, LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull}}
	if r.opt.StripeAPIURL != "" {
		cfg.URL = stripe.String(r.opt.StripeAPIURL)
	}
	api := &client.API{}
	api.Init(key, stripe.NewBackendsWithConfig(cfg))
	return api
}

// backfillTypes are the event types a backfill asks Stripe for: those the
// source's endpoints subscribe to, or none (all) when one takes every
// type or a prefix, or there are more than Stripe's 20.
func (r *Relay) backfillTypes(ctx context.Context, sourceID string) ([]string, error) {
	subs, err := r.st.Subscribers(ctx, sourceID)
	if err != nil {
		return nil, err
	}
	var types []string
	for _, s := range subs {
		if len(s.EventTypes) == 0 {
			return nil, nil
		}
		for _, t := range s.EventTypes {
			if strings.Contains(t, "*") {
				return nil, nil
			}
			if !slices.Contains(types, t) {
				types = append(types, t)
			}
		}
	}
	if len(types) > 20 {
		return nil, nil
	}
	slices.Sort(types)
	return types, nil
}

// CreateBackfill saves a backfill job of a Stripe source with an API key,
// for events created since since, with its audit row. RunBackfill runs it.
func (r *Relay) CreateBackfill(ctx context.Context, a Actor, sourceID string, since time.Time) (*store.BackfillJob, error) {
	now := r.Now()
	switch {
	case since.IsZero():
		return nil, invalid("since", "is required")
	case since.After(now):
		return nil, invalid("since", "is in the future")
	case since.Before(now.Add(-StripeEventRetention)):
		return nil, invalid("since", "must be within the last 30 days: Stripe's Events API lists no older events")
	}
	var job *store.BackfillJob
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		src, err := tx.GetSource(ctx, a.TeamID, sourceID)
		if err != nil {
			return err
		}
		if src.Provider != provider.Stripe {
			return invalid("source", "backfill reads Stripe's Events API: %s is a %s source", src.ID, src.Provider)
		}
		if src.APIKeySealed == "" {
			return invalid("api_key", "source %s has no API key: set a restricted key (rk_…) with read access to Events", src.ID)
		}
		types, err := r.backfillTypes(ctx, src.ID)
		if err != nil {
			return err
		}
		job = &store.BackfillJob{ID: store.NewID("bf"), TeamID: a.TeamID, SourceID: src.ID, Since: since.UTC().Truncate(time.Second),
			Types: types, Status: store.BackfillRunning, CreatedBy: a.String(), CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateBackfillJob(ctx, job); err != nil {
			return err
		}
		return r.audit(ctx, tx, a, "source.backfill.start", "source", src.ID,
			map[string]any{"job_id": job.ID, "since": job.Since, "types": job.Types})
	})
	if err != nil {
		return nil, err
	}
	return job, nil
}

// StartBackfill creates a backfill job and queues it for the worker: the
// dashboard's way, shown as a job with a progress bar.
func (r *Relay) StartBackfill(ctx context.Context, a Actor, sourceID string, since time.Time) (*store.BackfillJob, error) {
	job, err := r.CreateBackfill(ctx, a, sourceID, since)
	if err != nil {
		return nil, err
	}
	if err := r.enqueue(ctx, task.NewBackfill(task.Backfill{JobID: job.ID})); err != nil {
		r.log.Warn("enqueue_failed", "backfill_job_id", job.ID, "error", err.Error())
	}
	return job, nil
}

// CancelBackfill stops a running job after its current page.
func (r *Relay) CancelBackfill(ctx context.Context, a Actor, jobID string) (*store.BackfillJob, error) {
	var job *store.BackfillJob
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		j, err := tx.GetBackfillJob(ctx, a.TeamID, jobID)
		if err != nil {
			return err
		}
		ok, err := tx.FinishBackfillJob(ctx, j, store.BackfillCancelled, r.Now())
		if err != nil {
			return err
		}
		if !ok {
			return invalid("status", "the job is not running")
		}
		job = j
		return r.audit(ctx, tx, a, "source.backfill.cancel", "source", j.SourceID, map[string]any{"job_id": j.ID})
	})
	return job, err
}

// RunBackfill runs a job: it lists the source's events created since the
// job's time from Stripe's Events API (stripe-go's auto-paginating
// iterator, newest first, filtered by created[gte] and the job's types),
// and per page ingests through the normal ingest path the events whose
// id the source has not stored (event_keys, the ingest dedup key),
// marked with BackfillHeader, then dispatches them like any webhook.
// After each page it saves the counters and calls progress; a job
// cancelled meanwhile stops there. A job no longer running is left alone.
func (r *Relay) RunBackfill(ctx context.Context, jobID string, progress func(store.BackfillJob)) error {
	job, err := r.st.LoadBackfillJob(ctx, jobID)
	if err != nil {
		return err
	}
	if job.Status != store.BackfillRunning {
		return nil
	}
	src, err := r.st.GetSource(ctx, job.TeamID, job.SourceID)
	if err != nil {
		return r.failBackfill(ctx, job, err)
	}
	key, err := r.box.OpenString(src.APIKeySealed, apiKeyAD(src.ID))
	if err != nil {
		return r.failBackfill(ctx, job, fmt.Errorf("the source's API key cannot be opened: %w", err))
	}
	// A retried run starts over: its counters restart with it.
	job.Pages, job.Found, job.New, job.Ingested, job.Reached = 0, 0, 0, 0, nil
	params := &stripe.EventListParams{CreatedRange: &stripe.RangeQueryParams{GreaterThanOrEqual: job.Since.Unix()}}
	params.Limit = stripe.Int64(100)
	params.Context = ctx
	for _, t := range job.Types {
		params.Types = append(params.Types, stripe.String(t))
	}
	it := r.stripeClient(key).Events.List(params)
	var page *stripe.EventList
	flush := func() (bool, error) {
		if page == nil {
			return true, nil
		}
		if err := r.backfillPage(ctx, src, job, page); err != nil {
			return false, err
		}
		job.UpdatedAt = r.Now()
		running, err := r.st.SaveBackfillProgress(ctx, job)
		if progress != nil {
			progress(*job)
		}
		return running, err
	}
	for it.Next() {
		if cur := it.EventList(); cur != page {
			running, err := flush()
			if err != nil || !running {
				return r.endBackfill(ctx, job, running, err)
			}
			page = cur
		}
	}
	if err := it.Err(); err != nil {
		return r.endBackfill(ctx, job, true, fmt.Errorf("stripe: list events: %w", err))
	}
	running, err := flush()
	return r.endBackfill(ctx, job, running, err)
}

// backfillPage ingests the events of one page the source never stored.
// The bodies are the page's own bytes for each event, as Stripe sent them.
func (r *Relay) backfillPage(ctx context.Context, src *store.Source, job *store.BackfillJob, page *stripe.EventList) error {
	var raw struct {
		Data []json.RawMessage `json:"data"`
	}
	if page.LastResponse == nil || json.Unmarshal(page.LastResponse.RawJSON, &raw) != nil || len(raw.Data) != len(page.Data) {
		return errors.New("stripe: list events: a page without its raw events")
	}
	job.Pages++
	job.Found += len(page.Data)
	ids := make([]string, len(page.Data))
	for i, ev := range page.Data {
		ids[i] = ev.ID
		if at := time.Unix(ev.Created, 0).UTC(); job.Reached == nil || at.Before(*job.Reached) {
			job.Reached = &at
		}
	}
	known, err := r.st.KnownProviderEventIDs(ctx, src.ID, ids)
	if err != nil {
		return err
	}
	now := r.Now()
	var in []Inbound
	for i, ev := range page.Data {
		if known[ev.ID] || ev.ID == "" {
			continue
		}
		known[ev.ID] = true // a page never holds one event twice, but be sure
		in = append(in, Inbound{Source: src, Result: provider.Result{EventID: ev.ID, EventType: string(ev.Type), Verified: true},
			Body: []byte(raw.Data[i]), ContentType: "application/json",
			Headers: map[string][]string{"Content-Type": {"application/json"}, BackfillHeader: {job.ID}}, ReceivedAt: now})
	}
	job.New += len(in)
	if len(in) == 0 {
		return nil
	}
	res, err := r.Ingest(ctx, in)
	if err != nil {
		return err
	}
	for _, x := range res {
		if !x.Duplicate {
			job.Ingested++
		}
	}
	r.Dispatch(ctx, res)
	return nil
}

// endBackfill records how a run ended: finished, failed (err), or left
// running for the task's retry when the run itself was cut off.
func (r *Relay) endBackfill(ctx context.Context, job *store.BackfillJob, running bool, err error) error {
	if err != nil && ctx.Err() != nil {
		return err // shutting down: the task is retried and starts over
	}
	if err != nil {
		return r.failBackfill(ctx, job, err)
	}
	if !running {
		return nil // cancelled meanwhile; CancelBackfill wrote its row
	}
	return r.st.Tx(ctx, func(tx *store.Store) error {
		ok, err := tx.FinishBackfillJob(ctx, job, store.BackfillFinished, r.Now())
		if err != nil || !ok {
			return err
		}
		return r.audit(ctx, tx, SystemActor(job.TeamID), "source.backfill.finish", "source", job.SourceID, backfillSummary(job))
	})
}

// failBackfill marks a job failed with err's message; the run is over
// (a bad key or a refused request does not get better by retrying).
func (r *Relay) failBackfill(ctx context.Context, job *store.BackfillJob, cause error) error {
	job.Error = cause.Error()
	if len(job.Error) > 500 {
		job.Error = job.Error[:500]
	}
	r.log.Warn("backfill_failed", "backfill_job_id", job.ID, "error", job.Error)
	return r.st.Tx(ctx, func(tx *store.Store) error {
		ok, err := tx.FinishBackfillJob(ctx, job, store.BackfillFailed, r.Now())
		if err != nil || !ok {
			return err
		}
		return r.audit(ctx, tx, SystemActor(job.TeamID), "source.backfill.fail", "source", job.SourceID, backfillSummary(job))
	})
}

func backfillSummary(j *store.BackfillJob) map[string]any {
	m := map[string]any{"job_id": j.ID, "pages": j.Pages, "found": j.Found, "new": j.New, "ingested": j.Ingested}
	if j.Error != "" {
		m["error"] = j.Error
	}
	return m
}

// UseStripeAPI points this process's backfills at url instead of Stripe's
// API (stripe-mock, for `hookrelay stripe backfill --api-url`).
func (r *Relay) UseStripeAPI(url string) { r.opt.StripeAPIURL = url }
