package relay

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
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

// shareWait is how long a delivery waits when its endpoint already has
// its whole share of this worker's slots (see Slots); jittered by ±25 %.
const shareWait = time.Second

// Deliver makes one attempt of each delivery a task names, with no share
// rule (tests, tools); the worker calls DeliverShared.
func (r *Relay) Deliver(ctx context.Context, p task.Deliver) error {
	return r.DeliverShared(ctx, p, nil)
}

// Wave is the most deliveries of one task claimed, sent concurrently and
// finished together. A task's group is worked through in waves, each
// claimed just before it is sent, so a lease (the endpoint's timeout plus
// a margin) always covers the request it protects.
const Wave = 16

// taskBudget bounds how long one task works through its group and what
// was handed over before it hands the rest to a new task (asynq gives a
// task 5 minutes).
const taskBudget = time.Minute

// DeliverShared makes one attempt of each delivery a task names — all to
// one endpoint — within the endpoint's share of this worker (slots; nil
// means no share rule): the task holds one of the endpoint's share of
// slots while it runs; when the endpoint holds all of them, the task
// hands its deliveries to the running ones (see Slots). A running task
// goes through its group, then through what was handed over, in waves of
// at most Wave: claim the wave in one statement, ask the endpoint's gate
// for the wave in one go, sign and POST the stored bytes concurrently,
// record every attempt in one statement, and schedule each delivery's
// next attempt or settle it. A returned error means Postgres could not be
// used and asynq should retry the task; endpoint failures are recorded,
// not returned.
func (r *Relay) DeliverShared(ctx context.Context, p task.Deliver, slots *Slots) error {
	if r.client == nil {
		return errors.New("relay: no delivery client configured")
	}
	reqs := requestsOf(p)
	if slots == nil || p.EndpointID == "" {
		// No share rule, or an endpoint known only after the claim (a task
		// from an older version): deliverWave takes the slot.
		for len(reqs) > 0 {
			k := min(len(reqs), Wave)
			if err := r.deliverWave(ctx, p.Manual, reqs[:k], slots); err != nil {
				return err
			}
			reqs = reqs[k:]
		}
		return nil
	}
	switch slots.enter(p.EndpointID, reqs, p.Manual) {
	case handedOver:
		return nil
	case full:
		return r.deferShare(ctx, p.EndpointID, p.Manual, reqs, r.shareDelay())
	}
	return r.deliverAdmitted(ctx, p.EndpointID, reqs, p.Manual, slots)
}

// DeliverWoken runs a task that a wake message announced (wake.go) when
// this worker has a free slot of the task's endpoint, and otherwise does
// nothing: the queued task is still there for asynq to run. Whichever of
// the two claims a delivery first sends it; the other finds it claimed.
// After a run, the queued copy is deleted unless a worker already took
// it: one Redis command instead of its dequeue, an empty claim and its
// acknowledgement.
func (r *Relay) DeliverWoken(ctx context.Context, p task.Deliver, slots *Slots) error {
	if r.client == nil || slots == nil || p.EndpointID == "" || !slots.take(p.EndpointID) {
		return nil
	}
	if err := r.deliverAdmitted(ctx, p.EndpointID, requestsOf(p), p.Manual, slots); err != nil {
		return err
	}
	if r.insp != nil {
		// Gone already, or running (asynq refuses to delete an active
		// task): either way nothing more to do.
		_ = r.insp.DeleteTask(task.QueueDeliveries, task.GroupTaskID(p, ""))
	}
	return nil
}

// requestsOf is a task's claim requests, each delivery once.
func requestsOf(p task.Deliver) []store.ClaimRequest {
	ids := p.DeliveryIDs()
	reqs := make([]store.ClaimRequest, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			reqs = append(reqs, store.ClaimRequest{DeliveryID: id, N: p.Attempt})
		}
	}
	return reqs
}

// deliverAdmitted is DeliverShared once the task holds one of its
// endpoint's slots, which it gives back when done.
func (r *Relay) deliverAdmitted(ctx context.Context, endpointID string, reqs []store.ClaimRequest, manual bool, slots *Slots) error {
	start := r.Now()
	var err error
	for err == nil {
		if len(reqs) == 0 {
			if reqs, manual = slots.next(endpointID, Wave); len(reqs) == 0 {
				break
			}
		}
		if r.Now().Sub(start) > taskBudget {
			break // the rest goes to a new task below
		}
		k := min(len(reqs), Wave)
		err = r.deliverWave(ctx, manual, reqs[:k], nil)
		reqs = reqs[k:]
	}
	if len(reqs) > 0 {
		r.enqueueGroups(ctx, reqs, endpointID, manual, r.handNonce(), time.Time{})
	}
	r.enqueueHanded(ctx, endpointID, slots.leave(endpointID))
	return err
}

// enqueueHanded enqueues, due now, deliveries handed over to tasks that
// have all ended (unclaimed: Postgres needs no change).
func (r *Relay) enqueueHanded(ctx context.Context, endpointID string, hs []handed) {
	var auto, manual []store.ClaimRequest
	for _, h := range hs {
		if h.manual {
			manual = append(manual, h.req)
		} else {
			auto = append(auto, h.req)
		}
	}
	for _, g := range []struct {
		reqs   []store.ClaimRequest
		manual bool
	}{{auto, false}, {manual, true}} {
		for len(g.reqs) > 0 {
			k := min(len(g.reqs), dispatchGroup)
			r.enqueueGroups(ctx, g.reqs[:k], endpointID, g.manual, r.handNonce(), time.Time{})
			g.reqs = g.reqs[k:]
		}
	}
}

// handNonce makes the task ids of re-enqueued deliveries unique.
func (r *Relay) handNonce() string {
	return "h" + strings.TrimPrefix(store.NewID("x"), "x_")
}

// deliverWave claims reqs and delivers what it claimed. With slots, the
// task did not know its endpoint before the claim (a task enqueued by an
// older version): each endpoint's group takes its share slot here.
func (r *Relay) deliverWave(ctx context.Context, manual bool, reqs []store.ClaimRequest, slots *Slots) error {
	now := r.Now()
	// The lease is the endpoint's own timeout plus a margin, computed by
	// the claim itself, so a worker's death delays a delivery by seconds.
	// Concurrent tasks' claims share one statement (combine.go).
	cs, err := r.claims.do(ctx, claimReq{reqs: reqs, now: now})
	if err != nil {
		return err
	}
	if len(cs) < len(reqs) {
		r.log.Debug("stale_tasks_dropped", "first_delivery_id", reqs[0].DeliveryID, "stale", len(reqs)-len(cs))
	}
	var errs []error
	for len(cs) > 0 {
		// A task names one endpoint's deliveries; split anyway, in order.
		n := 1
		for n < len(cs) && cs[n].EndpointID == cs[0].EndpointID {
			n++
		}
		group := cs[:n]
		cs = cs[n:]
		if slots != nil {
			if !slots.take(group[0].EndpointID) {
				errs = append(errs, r.postpone(ctx, group, manual, now, r.shareDelay(), "worker share"))
				continue
			}
			errs = append(errs, r.deliverEndpoint(ctx, manual, now, group))
			r.enqueueHanded(ctx, group[0].EndpointID, slots.leave(group[0].EndpointID))
			continue
		}
		errs = append(errs, r.deliverEndpoint(ctx, manual, now, group))
	}
	return errors.Join(errs...)
}

// shareDelay is shareWait with ±25 % jitter, so postponed deliveries of
// one endpoint do not all come back in the same instant.
func (r *Relay) shareDelay() time.Duration {
	return time.Duration(float64(shareWait) * (0.75 + r.rnd()/2))
}

// deferShare pushes back unclaimed deliveries by wait (their endpoint has
// no free share here and its hand-over list is full), in one statement,
// and enqueues one task for them.
func (r *Relay) deferShare(ctx context.Context, endpointID string, manual bool, reqs []store.ClaimRequest, wait time.Duration) error {
	now := r.Now()
	until := now.Add(wait)
	got, err := r.st.DeferAttempts(ctx, reqs, now, until)
	if err != nil {
		return err
	}
	for range got {
		r.m.Postponed(endpointID)
	}
	r.log.Debug("deliveries_deferred", "endpoint_id", endpointID, "count", len(got), "reason", "worker share")
	r.enqueueGroups(ctx, got, endpointID, manual, "s"+strconv.FormatInt(now.UnixNano(), 36), until)
	return nil
}

// deliverEndpoint sends claimed attempts, all to one endpoint.
func (r *Relay) deliverEndpoint(ctx context.Context, manual bool, now time.Time, cs []*store.Claimed) error {
	c0 := cs[0]
	if !c0.EndpointEnabled {
		var errs []error
		for _, c := range cs {
			errs = append(errs, r.st.SettleWithoutAttempt(ctx, c.DeliveryID, c.Attempt, store.StatusFailed, "endpoint disabled", now))
		}
		return errors.Join(errs...)
	}
	if c0.EndpointPaused {
		return r.hold(ctx, cs, now)
	}
	gate := delivery.Verdict{Release: func() {}, Granted: len(cs)}
	var postponeErr error
	if r.gate != nil {
		v, err := r.gate.AcquireN(ctx, delivery.Limits{EndpointID: c0.EndpointID, RatePerSecond: c0.RateLimit,
			MaxInFlight: c0.MaxInFlight, Lease: r.timeoutOf(c0) + leaseMargin}, len(cs))
		switch {
		case err != nil: // Redis trouble: isolation is best effort, delivery is not
			r.log.Warn("gate_unavailable", "endpoint_id", c0.EndpointID, "error", err.Error())
		default:
			if v.Probe {
				var handed bool
				if cs, handed = r.pickProbe(ctx, cs, now); handed {
					v.Release()
					r.gate.GiveUpProbe(ctx, c0.EndpointID)
					return r.postpone(ctx, cs, manual, now, r.shareDelay(), "circuit half-open: probing with a new delivery")
				}
			}
			if v.Granted < len(cs) {
				if strings.HasPrefix(v.Reason, "circuit open") {
					r.m.Breaker(c0.EndpointID, metrics.BreakerOpen)
				}
				postponeErr = r.postpone(ctx, cs[v.Granted:], manual, now, v.Wait, v.Reason)
				cs = cs[:v.Granted]
			}
			gate = v
			if v.Probe {
				r.m.Breaker(c0.EndpointID, metrics.BreakerHalfOpen)
			}
		}
	}
	if len(cs) == 0 {
		return postponeErr
	}
	defer gate.Release()
	results := make([]delivery.Result, len(cs))
	sent := make([]http.Header, len(cs))
	send := func(i int) {
		req, err := r.buildRequest(cs[i], now)
		if err != nil {
			// A secret that cannot be opened is an operator problem (key
			// removed): fail the attempt visibly rather than send unsigned.
			results[i] = delivery.Result{Err: err}
			return
		}
		sent[i] = req.Header
		results[i] = r.client.Send(ctx, req)
	}
	if len(cs) == 1 {
		send(0)
	} else {
		var wg sync.WaitGroup
		for i := range cs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				send(i)
			}()
		}
		wg.Wait()
	}
	r.reportGate(ctx, c0.EndpointID, gate, cs, results, sent)
	return errors.Join(postponeErr, r.finish(ctx, cs, manual, now, results, sent))
}

// pickProbe chooses the attempt a half-open circuit probes with: the
// oldest delivery that never failed (attempt 1) goes first. When the group
// has none but the endpoint has such a delivery due, its task is enqueued
// now and handed is true: the group waits and that delivery probes.
func (r *Relay) pickProbe(ctx context.Context, cs []*store.Claimed, now time.Time) ([]*store.Claimed, bool) {
	best := -1
	for i, c := range cs {
		if c.Attempt == 1 && (best < 0 || c.DeliveryID < cs[best].DeliveryID) {
			best = i
		}
	}
	if best >= 0 {
		out := make([]*store.Claimed, 0, len(cs))
		out = append(out, cs[best])
		out = append(out, cs[:best]...)
		return append(out, cs[best+1:]...), false
	}
	id, err := r.st.OldestFreshDue(ctx, cs[0].EndpointID, now)
	if err != nil || id == "" {
		if err != nil {
			r.log.Warn("probe_pick_failed", "endpoint_id", cs[0].EndpointID, "error", err.Error())
		}
		return cs, false
	}
	t := task.NewDeliver(task.Deliver{DeliveryID: id, EndpointID: cs[0].EndpointID, Attempt: 1}, "p"+strconv.FormatInt(now.UnixNano(), 36), time.Time{})
	if err := r.enqueue(ctx, t); err != nil {
		r.log.Warn("enqueue_failed", "delivery_id", id, "error", err.Error())
		return cs, false
	}
	return cs, true
}

// reportGate feeds the sent attempts' outcomes to the breaker, in order.
// The breaker weighs failures against the endpoint's other deliveries, so
// once anything failed every success counts; but when the endpoint had no
// failures in its window and nothing failed before in the group, there is
// nothing to tell Redis.
func (r *Relay) reportGate(ctx context.Context, endpointID string, v delivery.Verdict, cs []*store.Claimed, results []delivery.Result, sent []http.Header) {
	if r.gate == nil {
		return
	}
	dirty := !v.Clean
	for i, res := range results {
		if sent[i] == nil {
			continue
		}
		o := delivery.Outcome{DeliveryID: cs[i].DeliveryID, Success: res.Succeeded(), Status: res.Status, RetryAfter: res.RetryAfter}
		if o.Success && !dirty {
			r.m.Breaker(endpointID, metrics.BreakerClosed)
			continue
		}
		state, err := r.gate.Report(ctx, endpointID, o, v.Probe && i == 0)
		if err != nil {
			r.log.Warn("gate_unavailable", "endpoint_id", endpointID, "error", err.Error())
			continue
		}
		r.m.Breaker(endpointID, breakerGauge(state))
		if !o.Success {
			dirty = true
		}
	}
}

// postpone hands claimed attempts back unsent because the endpoint's gate
// or the worker's share said wait: it is not a failure and uses up no
// attempt. One statement gives them back; one task per attempt number
// brings them back at the same time.
func (r *Relay) postpone(ctx context.Context, cs []*store.Claimed, manual bool, now time.Time, wait time.Duration, reason string) error {
	until := now.Add(wait)
	reqs := make([]store.ClaimRequest, len(cs))
	for i, c := range cs {
		reqs[i] = store.ClaimRequest{DeliveryID: c.DeliveryID, N: c.Attempt}
		r.m.Postponed(c.EndpointID)
	}
	if err := r.st.PostponeAttempts(ctx, reqs, until, heldReason(reason)); err != nil {
		return err
	}
	r.log.Debug("delivery_postponed", "delivery_id", cs[0].DeliveryID, "count", len(cs), "endpoint_id", cs[0].EndpointID,
		"wait_ms", wait.Milliseconds(), "reason", reason)
	// A fresh task id: the running task still holds this attempt's id.
	r.enqueueGroups(ctx, reqs, cs[0].EndpointID, manual, "w"+strconv.FormatInt(now.UnixNano(), 36), until)
	return nil
}

// heldReason words a gate's reason to wait for the delivery pages, which
// show "held: <reason> until T".
func heldReason(reason string) string {
	switch {
	case strings.HasPrefix(reason, "circuit open: "):
		return "endpoint circuit open (" + strings.TrimPrefix(reason, "circuit open: ") + ")"
	case strings.HasPrefix(reason, "circuit half-open"):
		return "endpoint circuit half-open, waiting for the probe"
	case strings.HasPrefix(reason, "rate limit "):
		return "rate limited (" + strings.TrimPrefix(reason, "rate limit ") + ")"
	case strings.HasSuffix(reason, " in flight"):
		return "in-flight cap (" + reason + ")"
	}
	return reason
}

// enqueueGroups enqueues one task per attempt number for deliveries of
// one endpoint, due at until, ids suffixed by nonce.
func (r *Relay) enqueueGroups(ctx context.Context, reqs []store.ClaimRequest, endpointID string, manual bool, nonce string, until time.Time) {
	byN := map[int]*task.Deliver{}
	var order []int
	for _, q := range reqs {
		p, ok := byN[q.N]
		if !ok {
			byN[q.N] = &task.Deliver{DeliveryID: q.DeliveryID, EndpointID: endpointID, Attempt: q.N, Manual: manual}
			order = append(order, q.N)
			continue
		}
		p.More = append(p.More, q.DeliveryID)
	}
	for _, n := range order {
		if err := r.enqueue(ctx, task.NewDeliver(*byN[n], nonce, until)); err != nil {
			r.log.Warn("enqueue_failed", "delivery_id", byN[n].DeliveryID, "count", 1+len(byN[n].More), "error", err.Error())
		}
	}
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

// finish records the attempts in one statement and decides, per delivery,
// what happens next. started is when the attempts were claimed.
func (r *Relay) finish(ctx context.Context, cs []*store.Claimed, manual bool, started time.Time, results []delivery.Result, sent []http.Header) error {
	now := r.Now()
	fs := make([]store.Finished, len(cs))
	for i, c := range cs {
		fs[i] = r.outcome(c, manual, started, now, results[i], sent[i])
	}
	if err := r.recordAttempts(ctx, fs, now); err != nil {
		return err
	}
	c0 := cs[0]
	disabled, recovered := false, false
	for i, c := range cs {
		res, a, o := results[i], fs[i].Attempt, fs[i].Outcome
		r.m.Attempt(c.EndpointID, attemptOutcome(o.Status, res), res.Duration)
		r.log.Info("delivery_attempt", "delivery_id", c.DeliveryID, "endpoint_id", c.EndpointID,
			"attempt", c.Attempt, "status", res.Status, "outcome", o.Status, "duration_ms", a.DurationMS)
		// Endpoint-wide consequences happen once per group.
		switch {
		case disabled:
		case res.Gone():
			disabled = true
			r.disableEndpoint(ctx, c, now, "endpoint answered 410 Gone at "+now.Format(time.RFC3339))
		case o.Status != store.StatusSucceeded && c.FailingSince != nil && now.Sub(*c.FailingSince) >= r.opt.AutoDisableAfter:
			disabled = true
			r.disableEndpoint(ctx, c, now, "failing without a success since "+c.FailingSince.Format(time.RFC3339))
		case o.Status == store.StatusSucceeded && !recovered && c.FailingSince != nil && now.Sub(*c.FailingSince) >= r.opt.RecoveredAfter:
			recovered = true
			r.notify(ctx, c.TeamID, "endpoint.recovered", map[string]any{"endpoint_id": c.EndpointID,
				"url": c.URL, "failing_since": c.FailingSince})
		}
		if o.Status == store.StatusFailed && !res.Gone() {
			r.notify(ctx, c.TeamID, "delivery.exhausted", map[string]any{"delivery_id": c.DeliveryID,
				"event_id": c.EventID, "endpoint_id": c.EndpointID, "attempts": c.Attempt, "last_error": o.LastError})
		}
		if o.Status == store.StatusPending {
			t := task.NewDeliver(task.Deliver{DeliveryID: c.DeliveryID, EndpointID: c0.EndpointID, Attempt: c.Attempt + 1}, "", *o.NextAttemptAt)
			if err := r.enqueue(ctx, t); err != nil {
				r.log.Warn("enqueue_failed", "delivery_id", c.DeliveryID, "error", err.Error())
			}
		}
	}
	return nil
}

// outcome turns one attempt's result into its attempt row and the
// delivery's next state: succeeded, failed, or pending with the next
// attempt on the endpoint's retry schedule (with jitter and Retry-After).
func (r *Relay) outcome(c *store.Claimed, manual bool, started, now time.Time, res delivery.Result, sent http.Header) store.Finished {
	a := &store.Attempt{DeliveryID: c.DeliveryID, N: c.Attempt, StartedAt: started,
		DurationMS: int(res.Duration.Milliseconds()), URL: c.URL, ResponseStatus: res.Status,
		ResponseHeaders: res.Header, ResponseBody: res.Body, Manual: manual}
	if sent != nil {
		a.RequestHeaders = redactHeaders(sent, c.Headers)
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
	return store.Finished{Attempt: a, Outcome: o}
}

// finishRetries bounds how long recordAttempts keeps trying (about 15 s).
var finishRetries = []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second,
	2 * time.Second, 4 * time.Second, 8 * time.Second}

// recordAttempts stores attempts that were made, in one statement,
// retrying through a short PostgreSQL outage: given up, the deliveries
// would sit out their lease (the endpoint's timeout plus a margin) before
// anyone could try again, and the requests just made would be sent a
// second time.
func (r *Relay) recordAttempts(ctx context.Context, fs []store.Finished, now time.Time) error {
	// Concurrent tasks' finishes share one statement (combine.go).
	_, err := r.finishes.do(ctx, finishReq{fs: fs, now: now})
	for _, wait := range finishRetries {
		if err == nil || ctx.Err() != nil {
			break
		}
		r.log.Warn("finish_retry", "delivery_id", fs[0].Attempt.DeliveryID, "attempt", fs[0].Attempt.N,
			"count", len(fs), "error", err.Error())
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		_, err = r.finishes.do(ctx, finishReq{fs: fs, now: now})
	}
	return err
}

// disableEndpoint turns off an endpoint (410, or failing too long) with an
// audit row and an endpoint.disabled notification.
func (r *Relay) disableEndpoint(ctx context.Context, c *store.Claimed, now time.Time, reason string) {
	// Several groups (tasks, workers) may see the 410 at once: only the one
	// that switches the endpoint off audits and notifies.
	switched := false
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		var err error
		if switched, err = tx.SwitchEndpoint(ctx, c.TeamID, c.EndpointID, false, reason, now); err != nil || !switched {
			return err
		}
		return r.audit(ctx, tx, SystemActor(c.TeamID), "endpoint.disable", "endpoint", c.EndpointID,
			map[string]any{"reason": reason, "delivery_id": c.DeliveryID})
	})
	if err != nil {
		r.log.Error("disable_endpoint_failed", "endpoint_id", c.EndpointID, "error", err.Error())
		return
	}
	if !switched {
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
