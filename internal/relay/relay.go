// Package relay holds the use cases the API, the dashboard and the worker
// share: ingest, deliver, sweep, redeliver, and configuration changes, each
// writing its audit row in the same transaction as the change.
package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/metrics"
	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/store"
)

// Enqueuer puts tasks in Redis; *asynq.Client satisfies it.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// Inspector looks at and removes queued tasks; *asynq.Inspector satisfies it.
type Inspector interface {
	GetTaskInfo(queue, id string) (*asynq.TaskInfo, error)
	DeleteTask(queue, id string) error
}

// Options are the settings the use cases need.
type Options struct {
	// MaxBodyBytes bounds an ingested body.
	MaxBodyBytes int
	// StripeTolerance is the default signature age for Stripe sources.
	StripeTolerance time.Duration
	// DeliveryTimeout is the attempt timeout of endpoints that set none.
	DeliveryTimeout time.Duration
	// RetrySchedule is the schedule of endpoints that set none.
	RetrySchedule delivery.Schedule
	// RetryJitter is the ± fraction applied to every delay.
	RetryJitter float64
	// SweepGrace is how overdue a delivery must be before the sweeper acts.
	SweepGrace time.Duration
	// SecretGrace is how long a rotated-out secret stays valid.
	SecretGrace time.Duration
	// Version goes into the User-Agent.
	Version string
	// AutoDisableAfter disables an endpoint whose failures have lasted
	// this long without a success (default 5 days).
	AutoDisableAfter time.Duration
	// RecoveredAfter is how long an endpoint must have been failing for its
	// next success to be announced as endpoint.recovered, so flaps stay
	// quiet (default 5 min).
	RecoveredAfter time.Duration
	// RejectionsPerMinute caps the rejected requests stored per source per
	// minute in this process (default DefaultRejectionsPerMinute); the
	// rest are answered 401 as usual and only counted.
	RejectionsPerMinute int
	// TeamCreation is who may create teams: TeamCreationOwners (owners of
	// the first team; the default when empty) or TeamCreationAnyone.
	TeamCreation string
	// BcryptCost is the password hashing cost (default DefaultBcryptCost;
	// tests lower it, since every hash then takes a millisecond).
	BcryptCost int
	// StripeAPIURL is where backfills call Stripe's API; "" is Stripe's
	// own (tests point it at stripe-mock).
	StripeAPIURL string
}

// Relay runs the use cases.
type Relay struct {
	st     *store.Store
	box    *secret.Box
	enq    Enqueuer
	insp   Inspector
	client *delivery.Client
	guard  *delivery.Guard
	log    *slog.Logger
	now    func() time.Time
	rnd    func() float64
	opt    Options

	limiter Limiter
	sources sourceCache
	gate    *delivery.Gate
	ops     opsTarget
	m       *metrics.Metrics
	// rejections caps the rejected requests stored per source per minute.
	rejections rejectionCap
	// dummyHash is a password hash at BcryptCost (see newDummyHash).
	dummyHash func() []byte
	// claims and finishes merge concurrent tasks' bookkeeping (combine.go).
	claims   *combiner[claimReq, []*store.Claimed]
	finishes *combiner[finishReq, struct{}]
	waker    Waker
}

// Deps are Relay's collaborators. Enqueuer, Inspector and Client may be nil
// for processes that do not use them (then the matching use cases fail).
type Deps struct {
	Store     *store.Store
	Box       *secret.Box
	Enqueuer  Enqueuer
	Inspector Inspector
	Client    *delivery.Client
	Guard     *delivery.Guard
	Logger    *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand returns [0,1) for retry jitter; nil means math/rand.
	Rand func() float64
	// LoginLimiter throttles dashboard logins; nil means no throttle.
	LoginLimiter Limiter
	// Gate isolates endpoints (rate limit, in-flight cap, circuit
	// breaker); nil means no isolation.
	Gate *delivery.Gate
	// Metrics counts ingests, attempts and sweeps; nil records nothing.
	Metrics *metrics.Metrics
	// Waker announces freshly enqueued tasks to idle workers (wake.go);
	// nil: workers find them by polling.
	Waker Waker
}

// New builds a Relay.
func New(d Deps, o Options) *Relay {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Rand == nil {
		d.Rand = rand.Float64
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Guard == nil {
		d.Guard = delivery.NewGuard(nil)
	}
	if len(o.RetrySchedule) == 0 {
		o.RetrySchedule = delivery.DefaultSchedule
	}
	if o.DeliveryTimeout == 0 {
		o.DeliveryTimeout = 15 * time.Second
	}
	if o.SecretGrace == 0 {
		o.SecretGrace = 24 * time.Hour
	}
	if o.BcryptCost == 0 {
		o.BcryptCost = DefaultBcryptCost
	}
	if o.RecoveredAfter == 0 {
		o.RecoveredAfter = 5 * time.Minute
	}
	if o.AutoDisableAfter == 0 {
		o.AutoDisableAfter = 5 * 24 * time.Hour
	}
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = 1 << 20
	}
	r := &Relay{st: d.Store, box: d.Box, enq: d.Enqueuer, insp: d.Inspector, client: d.Client,
		guard: d.Guard, log: d.Logger, now: d.Now, rnd: d.Rand, opt: o, limiter: d.LoginLimiter, gate: d.Gate, m: d.Metrics,
		dummyHash: newDummyHash(o.BcryptCost), waker: d.Waker}
	r.claims, r.finishes = r.newClaimCombiner(), r.newFinishCombiner()
	return r
}

// Store returns the store, for read-only pages and handlers.
func (r *Relay) Store() *store.Store { return r.st }

// Now returns the relay's clock reading.
func (r *Relay) Now() time.Time { return r.now().UTC() }

// Actor is who asked for a change, for the audit log.
type Actor struct {
	TeamID string
	// Kind is "token", "user" or "system".
	Kind string
	ID   string
	IP   string
}

func (a Actor) String() string { return a.Kind + ":" + a.ID }

// SystemActor is hookrelay itself (auto-disable after 410, bootstrap).
func SystemActor(teamID string) Actor { return Actor{TeamID: teamID, Kind: "system", ID: "hookrelay"} }

// ValidationError is bad input from a user: a field and what is wrong.
type ValidationError struct {
	Field string
	Msg   string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Msg }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Msg: userText(fmt.Sprintf(format, args...))}
}

// packagePrefixes are the error prefixes of the packages whose errors
// reach users through invalid ("delivery: retry schedule is empty"):
// people read the message, not which package wrote it.
var packagePrefixes = []string{"delivery: ", "signing: ", "provider: ", "secret: ", "store: "}

// userText is msg without a leading package prefix.
func userText(msg string) string {
	for _, p := range packagePrefixes {
		if strings.HasPrefix(msg, p) {
			return strings.TrimPrefix(msg, p)
		}
	}
	return msg
}

// audit writes an audit row through st (a transaction).
func (r *Relay) audit(ctx context.Context, st *store.Store, a Actor, action, kind, id string, details map[string]any) error {
	return st.InsertAudit(ctx, &store.AuditEntry{TeamID: a.TeamID, Actor: a.String(), Action: action,
		TargetKind: kind, TargetID: id, Details: details, IP: a.IP, At: r.Now()})
}

// enqueue puts a task in Redis; an id conflict means it is already queued.
func (r *Relay) enqueue(ctx context.Context, t *asynq.Task) error {
	if r.enq == nil {
		return errors.New("relay: no task queue configured")
	}
	_, err := r.enq.EnqueueContext(ctx, t)
	if errors.Is(err, asynq.ErrTaskIDConflict) || errors.Is(err, asynq.ErrDuplicateTask) {
		return nil
	}
	return err
}

// sealSecret encrypts a plaintext secret for owner (a source or endpoint id).
func (r *Relay) sealSecret(owner, plaintext string, expires *time.Time) store.Secret {
	kid, ct := r.box.Seal([]byte(plaintext), []byte(owner))
	return store.Secret{ID: store.NewID("sec"), KeyID: kid, Cipher: ct, CreatedAt: r.Now(), ExpiresAt: expires}
}

// openSecrets decrypts the active secrets of owner, newest first.
func (r *Relay) openSecrets(owner string, secrets []store.Secret) ([]string, error) {
	now := r.Now()
	out := make([]string, 0, len(secrets))
	for i := len(secrets) - 1; i >= 0; i-- {
		s := secrets[i]
		if !s.Active(now) {
			continue
		}
		pt, err := r.box.Open(s.KeyID, s.Cipher, []byte(owner))
		if err != nil {
			return nil, fmt.Errorf("relay: secret %s of %s: %w", s.ID, owner, err)
		}
		out = append(out, string(pt))
	}
	return out, nil
}

// rotate expires the active secrets of a list after the grace period and
// appends the new one.
func (r *Relay) rotate(owner string, secrets []store.Secret, plaintext string, grace time.Duration) []store.Secret {
	now := r.Now()
	until := now.Add(grace)
	out := make([]store.Secret, 0, len(secrets)+1)
	for _, s := range secrets {
		if !s.Active(now) {
			continue // expired secrets are dropped for good
		}
		if s.ExpiresAt == nil || s.ExpiresAt.After(until) {
			s.ExpiresAt = &until
		}
		out = append(out, s)
	}
	return append(out, r.sealSecret(owner, plaintext, nil))
}
