package relay

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/metrics"
	"github.com/hookrelay/hookrelay/internal/signing"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/task"
)

// leaseMargin is added to an attempt's timeout for the claim's lease: the
// sweeper retries an attempt whose worker died only after it.
const leaseMargin = 15 * time.Second

// Deliver makes one attempt of one delivery: claim it, sign and POST the
// stored bytes, record the attempt, and schedule the next one or settle.
// A returned error means Postgres could not be used and asynq should retry
// the task; endpoint failures are recorded, not returned.
func (r *Relay) Deliver(ctx context.Context, p task.Deliver) error {
	if r.client == nil {
		return errors.New("relay: no delivery client configured")
	}
	now := r.Now()
	// The lease is the endpoint's own timeout plus a margin, computed by
	// the claim itself, so a worker's death delays a delivery by seconds.
	c, err := r.st.ClaimAttempt(ctx, p.DeliveryID, p.Attempt, now, r.opt.DeliveryTimeout, leaseMargin)
	if errors.Is(err, store.ErrNotFound) {
		r.log.Debug("stale_task_dropped", "delivery_id", p.DeliveryID, "attempt", p.Attempt)
		return nil
	}
	if err != nil {
		return err
	}
	if !c.EndpointEnabled {
		return r.st.SettleWithoutAttempt(ctx, c.DeliveryID, c.Attempt, store.StatusFailed, "endpoint disabled", now)
	}
	gate := delivery.Verdict{Release: func() {}}
	if r.gate != nil {
		v, err := r.gate.Acquire(ctx, delivery.Limits{EndpointID: c.EndpointID, RatePerSecond: c.RateLimit,
			MaxInFlight: c.MaxInFlight, Lease: r.timeoutOf(c) + leaseMargin})
		switch {
		case err != nil: // Redis trouble: isolation is best effort, delivery is not
			r.log.Warn("gate_unavailable", "endpoint_id", c.EndpointID, "error", err.Error())
		case v.Wait > 0:
			if strings.HasPrefix(v.Reason, "circuit open") {
				r.m.Breaker(c.EndpointID, metrics.BreakerOpen)
			}
			return r.postpone(ctx, c, p, now, v)
		default:
			gate = v
			if v.Probe {
				r.m.Breaker(c.EndpointID, metrics.BreakerHalfOpen)
			}
		}
	}
	defer gate.Release()
	req, err := r.buildRequest(c, now)
	if err != nil {
		// A secret that cannot be opened is an operator problem (key
		// removed): fail the attempt visibly rather than send unsigned.
		return r.finish(ctx, c, p.Manual, now, delivery.Result{Err: err})
	}
	res := r.client.Send(ctx, req)
	if r.gate != nil {
		o := delivery.Outcome{Success: res.Succeeded(), Status: res.Status, RetryAfter: res.RetryAfter}
		if state, err := r.gate.Report(ctx, c.EndpointID, o, gate.Probe); err != nil {
			r.log.Warn("gate_unavailable", "endpoint_id", c.EndpointID, "error", err.Error())
		} else {
			r.m.Breaker(c.EndpointID, breakerGauge(state))
		}
	}
	return r.finish(ctx, c, p.Manual, now, res, req.Header)
}

// postpone hands a claimed attempt back unsent because the endpoint's gate
// said wait: it is not a failure and uses up no attempt.
func (r *Relay) postpone(ctx context.Context, c *store.Claimed, p task.Deliver, now time.Time, v delivery.Verdict) error {
	until := now.Add(v.Wait)
	if err := r.st.Postpone(ctx, c.DeliveryID, c.Attempt, until); err != nil {
		return err
	}
	r.m.Postponed(c.EndpointID)
	r.log.Debug("delivery_postponed", "delivery_id", c.DeliveryID, "endpoint_id", c.EndpointID,
		"wait_ms", v.Wait.Milliseconds(), "reason", v.Reason)
	// A fresh task id: the running task still holds this attempt's id.
	nonce := "w" + strconv.FormatInt(now.UnixNano(), 36)
	if err := r.enqueue(ctx, task.NewDeliver(p, nonce, until)); err != nil {
		r.log.Warn("enqueue_failed", "delivery_id", c.DeliveryID, "error", err.Error())
	}
	return nil
}

// maxEndpointTimeout bounds an endpoint's timeout setting.
const maxEndpointTimeout = 2 * time.Minute

func (r *Relay) timeoutOf(c *store.Claimed) time.Duration {
	if c.TimeoutMS > 0 {
		return min(time.Duration(c.TimeoutMS)*time.Millisecond, maxEndpointTimeout)
	}
	return r.opt.DeliveryTimeout
}

func (r *Relay) buildRequest(c *store.Claimed, now time.Time) (delivery.Request, error) {
	h := make(http.Header, 8+len(c.Headers))
	custom, err := r.openHeaders(c.EndpointID, c.Headers)
	if err != nil {
		return delivery.Request{URL: c.URL, Header: h}, err
	}
	for k, v := range custom {
		h.Set(k, v)
	}
	ct := c.ContentType
	if ct == "" {
		ct = "application/json"
	}
	h.Set("Content-Type", ct)
	h.Set("User-Agent", "hookrelay/"+r.opt.Version)
	h.Set("X-Hookrelay-Event-Type", c.EventType)
	h.Set("X-Hookrelay-Source", c.SourceID)
	h.Set("X-Hookrelay-Delivery", c.DeliveryID)
	h.Set("X-Hookrelay-Attempt", strconv.Itoa(c.Attempt))
	// Every scheme carries the stable id consumers dedupe on (Standard
	// Webhooks sets it again when signing).
	h.Set("Webhook-Id", c.EventID)
	secrets, err := r.openSecrets(c.EndpointID, c.Secrets)
	if err != nil {
		return delivery.Request{URL: c.URL, Header: h}, err
	}
	scheme, err := signing.ParseScheme(c.SigningScheme)
	if err != nil {
		return delivery.Request{URL: c.URL, Header: h}, err
	}
	if scheme == signing.GitHub {
		// go-github's ParseWebHook dispatches on these, not only the signature.
		h.Set("X-GitHub-Event", c.EventType)
		h.Set("X-GitHub-Delivery", c.EventID)
	}
	if err := signing.Sign(scheme, secrets, signing.Message{ID: c.EventID, Timestamp: now, Body: c.Body}, h); err != nil {
		return delivery.Request{URL: c.URL, Header: h}, err
	}
	return delivery.Request{URL: c.URL, Header: h, Body: c.Body, Timeout: r.timeoutOf(c)}, nil
}

// finish records the attempt and decides what happens next.
func (r *Relay) finish(ctx context.Context, c *store.Claimed, manual bool, started time.Time, res delivery.Result, sent ...http.Header) error {
	now := r.Now()
	a := &store.Attempt{DeliveryID: c.DeliveryID, N: c.Attempt, StartedAt: started,
		DurationMS: int(res.Duration.Milliseconds()), URL: c.URL, ResponseStatus: res.Status,
		ResponseHeaders: res.Header, ResponseBody: res.Body, Manual: manual}
	if len(sent) > 0 {
		a.RequestHeaders = redactHeaders(sent[0], c.Headers)
	}
	o := store.Outcome{LastStatus: res.Status, EndpointID: c.EndpointID}
	if !res.Succeeded() {
		a.Error = res.ErrorText()
		o.LastError = a.Error
	}
	switch {
	case res.Succeeded():
		o.Status = store.StatusSucceeded
	case res.Gone():
		o.Status = store.StatusFailed
		o.LastError = "endpoint answered 410 Gone; endpoint disabled"
	default:
		sched := r.opt.RetrySchedule
		if c.RetrySchedule != "" {
			if s, err := delivery.ParseSchedule(c.RetrySchedule); err == nil {
				sched = s
			}
		}
		if delay, ok := sched.Next(c.Attempt, r.opt.RetryJitter, res.RetryAfter, r.rnd); ok {
			next := now.Add(delay)
			o.Status, o.NextAttemptAt = store.StatusPending, &next
		} else {
			o.Status = store.StatusFailed
		}
	}
	if err := r.recordAttempt(ctx, a, o, now); err != nil {
		return err
	}
	r.m.Attempt(c.EndpointID, attemptOutcome(o.Status, res), res.Duration)
	r.log.Info("delivery_attempt", "delivery_id", c.DeliveryID, "endpoint_id", c.EndpointID,
		"attempt", c.Attempt, "status", res.Status, "outcome", o.Status, "duration_ms", a.DurationMS)
	switch {
	case res.Gone():
		r.disableEndpoint(ctx, c, now, "endpoint answered 410 Gone at "+now.Format(time.RFC3339))
	case o.Status != store.StatusSucceeded && c.FailingSince != nil && now.Sub(*c.FailingSince) >= r.opt.AutoDisableAfter:
		r.disableEndpoint(ctx, c, now, "failing without a success since "+c.FailingSince.Format(time.RFC3339))
	case o.Status == store.StatusSucceeded && c.FailingSince != nil && now.Sub(*c.FailingSince) >= r.opt.RecoveredAfter:
		r.notify(ctx, c.TeamID, "endpoint.recovered", map[string]any{"endpoint_id": c.EndpointID,
			"url": c.URL, "failing_since": c.FailingSince})
	}
	if o.Status == store.StatusFailed && !res.Gone() {
		r.notify(ctx, c.TeamID, "delivery.exhausted", map[string]any{"delivery_id": c.DeliveryID,
			"event_id": c.EventID, "endpoint_id": c.EndpointID, "attempts": c.Attempt, "last_error": o.LastError})
	}
	if o.Status == store.StatusPending {
		t := task.NewDeliver(task.Deliver{DeliveryID: c.DeliveryID, Attempt: c.Attempt + 1}, "", *o.NextAttemptAt)
		if err := r.enqueue(ctx, t); err != nil {
			r.log.Warn("enqueue_failed", "delivery_id", c.DeliveryID, "error", err.Error())
		}
	}
	return nil
}

// finishRetries bounds how long recordAttempt keeps trying (about 15 s).
var finishRetries = []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second,
	2 * time.Second, 4 * time.Second, 8 * time.Second}

// recordAttempt stores an attempt that was made, retrying through a short
// PostgreSQL outage: given up, the delivery would sit out its lease (the
// endpoint's timeout plus a margin) before anyone could try again, and
// the request just made would be sent a second time.
func (r *Relay) recordAttempt(ctx context.Context, a *store.Attempt, o store.Outcome, now time.Time) error {
	err := r.st.FinishAttempt(ctx, a, o, now)
	for _, wait := range finishRetries {
		if err == nil || ctx.Err() != nil {
			break
		}
		r.log.Warn("finish_retry", "delivery_id", a.DeliveryID, "attempt", a.N, "error", err.Error())
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		err = r.st.FinishAttempt(ctx, a, o, now)
	}
	return err
}

// disableEndpoint turns off an endpoint (410, or failing too long) with an
// audit row and an endpoint.disabled notification.
func (r *Relay) disableEndpoint(ctx context.Context, c *store.Claimed, now time.Time, reason string) {
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.SetEndpointEnabled(ctx, c.TeamID, c.EndpointID, false, reason, now); err != nil {
			return err
		}
		return r.audit(ctx, tx, SystemActor(c.TeamID), "endpoint.disable", "endpoint", c.EndpointID,
			map[string]any{"reason": reason, "delivery_id": c.DeliveryID})
	})
	if err != nil {
		r.log.Error("disable_endpoint_failed", "endpoint_id", c.EndpointID, "error", err.Error())
		return
	}
	r.notify(ctx, c.TeamID, "endpoint.disabled", map[string]any{"endpoint_id": c.EndpointID, "url": c.URL, "reason": reason})
}

// attemptOutcome is the metrics label of a finished attempt.
func attemptOutcome(status string, res delivery.Result) string {
	switch {
	case status == store.StatusSucceeded:
		return metrics.Succeeded
	case status == store.StatusPending:
		return metrics.Retrying
	case res.Gone():
		return metrics.Gone
	}
	return metrics.Failed
}

// breakerGauge maps a breaker state to its gauge value.
func breakerGauge(s delivery.BreakerState) int {
	switch s {
	case delivery.BreakerOpen:
		return metrics.BreakerOpen
	case delivery.BreakerHalfOpen:
		return metrics.BreakerHalfOpen
	}
	return metrics.BreakerClosed
}

// redactHeaders copies the sent headers for the attempt log, hiding the
// values of the endpoint's custom headers (they often carry credentials).
func redactHeaders(h http.Header, custom map[string]string) map[string][]string {
	out := make(map[string][]string, len(h))
	for k, v := range h {
		out[k] = v
	}
	for k := range custom {
		ck := http.CanonicalHeaderKey(k)
		if _, ok := out[ck]; ok {
			out[ck] = []string{"[redacted]"}
		}
	}
	return out
}
