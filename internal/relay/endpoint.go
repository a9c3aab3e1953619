package relay

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/signing"
	"github.com/hookrelay/hookrelay/internal/store"
)

// EndpointInput is a create or update of an endpoint; nil fields are
// unchanged on update.
type EndpointInput struct {
	URL           *string            `json:"url"`
	Description   *string            `json:"description"`
	Enabled       *bool              `json:"enabled"`
	EventTypes    *[]string          `json:"event_types"`
	SourceIDs     *[]string          `json:"source_ids"`
	Headers       *map[string]string `json:"headers"`
	TimeoutMS     *int               `json:"timeout_ms"`
	RetrySchedule *string            `json:"retry_schedule"`
	SigningScheme *string            `json:"signing_scheme"`
	// RateLimit caps requests per second to this endpoint (0: none).
	RateLimit *int `json:"rate_limit"`
	// MaxInFlight caps concurrent requests to this endpoint (0: none).
	MaxInFlight *int `json:"max_in_flight"`
	// SigningKeyType is "hmac" (default) or "ed25519" (Standard Webhooks
	// v1a, standard-webhooks scheme only). It is fixed at creation:
	// rotation keeps the type of the newest secret.
	SigningKeyType *string `json:"signing_key_type"`
}

// Signing key types of an endpoint.
const (
	KeyTypeHMAC    = "hmac"
	KeyTypeEd25519 = "ed25519"
)

// checkKeyType validates a requested key type against the endpoint's
// scheme; "" means hmac.
func checkKeyType(kt, scheme string) error {
	switch kt {
	case "", KeyTypeHMAC:
		return nil
	case KeyTypeEd25519:
		if scheme != string(signing.StandardWebhooks) {
			return invalid("signing_key_type", "ed25519 is only available with signing_scheme standard-webhooks")
		}
		return nil
	default:
		return invalid("signing_key_type", "unknown key type %q (want hmac or ed25519)", kt)
	}
}

// newEndpointSecret makes a secret of the key type for the scheme.
func newEndpointSecret(scheme, kt string) (string, error) {
	if kt == KeyTypeEd25519 {
		priv, _, err := signing.NewEd25519Secret()
		return priv, err
	}
	return signing.NewSecret(signing.Scheme(scheme))
}

// keyTypeOf reads the key type of an endpoint from its newest readable
// active secret; an endpoint without one (scheme none, or every key lost)
// is hmac. Unreadable secrets are skipped so that losing an encryption key
// never blocks the update or rotation that repairs the endpoint.
func (r *Relay) keyTypeOf(ep *store.Endpoint) string {
	now := r.Now()
	for i := len(ep.Secrets) - 1; i >= 0; i-- {
		s := ep.Secrets[i]
		if !s.Active(now) {
			continue
		}
		if pt, err := r.box.Open(s.KeyID, s.Cipher, []byte(ep.ID)); err == nil {
			if strings.HasPrefix(string(pt), signing.PrivateKeyPrefix) {
				return KeyTypeEd25519
			}
			return KeyTypeHMAC
		}
	}
	return KeyTypeHMAC
}

// PublicKeys returns the "whpk_" public keys of an owner's active ed25519
// secrets, newest first, for the team to verify v1a signatures with. HMAC
// and unreadable secrets are skipped; the private keys never leave here.
func (r *Relay) PublicKeys(owner string, secrets []store.Secret) []string {
	now := r.Now()
	out := []string{}
	for i := len(secrets) - 1; i >= 0; i-- {
		s := secrets[i]
		if !s.Active(now) {
			continue
		}
		pt, err := r.box.Open(s.KeyID, s.Cipher, []byte(owner))
		if err != nil || !strings.HasPrefix(string(pt), signing.PrivateKeyPrefix) {
			continue
		}
		if pub, err := signing.PublicKey(string(pt)); err == nil {
			out = append(out, pub)
		}
	}
	return out
}

// apply validates in and copies it onto ep.
func (r *Relay) applyEndpoint(ctx context.Context, ep *store.Endpoint, in EndpointInput) (map[string]any, error) {
	// Lengths, counts and header names/values (reserved ones too): limits.go.
	if err := checkEndpointInput(in); err != nil {
		return nil, err
	}
	changed := map[string]any{}
	if in.URL != nil {
		u := strings.TrimSpace(*in.URL)
		if err := delivery.ValidateURL(u); err != nil {
			return nil, invalid("url", "%v", err)
		}
		// The host is resolved now so a private target is refused with a
		// clear message; a host that does not resolve (yet) is accepted,
		// since the dial-time check runs on every attempt anyway.
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err := r.guard.CheckURL(rctx, u)
		cancel()
		if blocked := (*delivery.BlockedError)(nil); errors.As(err, &blocked) {
			return nil, invalid("url", "%v (allow it with HOOKRELAY_ALLOW_CIDRS)", err)
		}
		ep.URL, changed["url"] = u, u
	}
	if in.Description != nil {
		ep.Description, changed["description"] = *in.Description, *in.Description
	}
	// Enabled is not a setting but a state change with its own audit
	// action: CreateEndpoint and UpdateEndpoint apply it (switchEnabled).
	if in.EventTypes != nil {
		types := []string{}
		for _, t := range *in.EventTypes {
			if t = strings.TrimSpace(t); t != "" {
				types = append(types, t)
			}
		}
		ep.EventTypes, changed["event_types"] = types, types
	}
	if in.SourceIDs != nil {
		ep.SourceIDs, changed["source_ids"] = *in.SourceIDs, *in.SourceIDs
	}
	if in.Headers != nil {
		sealed, err := r.sealHeaders(ep.ID, ep.Headers, *in.Headers)
		if err != nil {
			return nil, err
		}
		ep.Headers = sealed
		changed["headers"] = headerNames(*in.Headers)
	}
	if in.TimeoutMS != nil {
		if *in.TimeoutMS < 0 || time.Duration(*in.TimeoutMS)*time.Millisecond > maxEndpointTimeout {
			return nil, invalid("timeout_ms", "must be between 0 (default) and %d", maxEndpointTimeout.Milliseconds())
		}
		ep.TimeoutMS, changed["timeout_ms"] = *in.TimeoutMS, *in.TimeoutMS
	}
	if in.RateLimit != nil {
		if *in.RateLimit < 0 || *in.RateLimit > 100000 {
			return nil, invalid("rate_limit", "must be between 0 (none) and 100000 requests per second")
		}
		ep.RateLimit, changed["rate_limit"] = *in.RateLimit, *in.RateLimit
	}
	if in.MaxInFlight != nil {
		if *in.MaxInFlight < 0 || *in.MaxInFlight > 10000 {
			return nil, invalid("max_in_flight", "must be between 0 (none) and 10000")
		}
		ep.MaxInFlight, changed["max_in_flight"] = *in.MaxInFlight, *in.MaxInFlight
	}
	if in.RetrySchedule != nil {
		if s := strings.TrimSpace(*in.RetrySchedule); s != "" {
			if _, err := delivery.ParseSchedule(s); err != nil {
				return nil, invalid("retry_schedule", "%v", err)
			}
		}
		ep.RetrySchedule, changed["retry_schedule"] = strings.TrimSpace(*in.RetrySchedule), *in.RetrySchedule
	}
	if in.SigningScheme != nil {
		s, err := signing.ParseScheme(*in.SigningScheme)
		if err != nil {
			return nil, invalid("signing_scheme", "%v", err)
		}
		ep.SigningScheme, changed["signing_scheme"] = string(s), string(s)
	}
	return changed, nil
}

// headerAD binds a sealed header value to its endpoint and header name.
func headerAD(endpointID, name string) []byte { return []byte(endpointID + "/header/" + name) }

// KeepHeaderValue, given as a custom header's value on update, keeps the
// value stored for that header, which no answer shows (the dashboard's
// edit form sends it for every header left as it was).
const KeepHeaderValue = "(unchanged)"

// sealHeaders encrypts an endpoint's custom header values (they often hold
// credentials) for storage; KeepHeaderValue keeps a stored one as it is.
// Only buildRequest opens them again.
func (r *Relay) sealHeaders(endpointID string, stored, in map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(in))
	for k, v := range in {
		if v == KeepHeaderValue {
			old, ok := stored[k]
			if !ok {
				return nil, invalid("headers", "%s has no stored value to keep: type one", k)
			}
			out[k] = old
			continue
		}
		out[k] = r.box.SealString(v, headerAD(endpointID, k))
	}
	return out, nil
}

// openHeaders decrypts an endpoint's custom header values for a request. A
// value stored before header sealing (migration 0007) is used as it is
// until `migrate up` or `secrets rekey` seals it.
func (r *Relay) openHeaders(endpointID string, h map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(h))
	for k, v := range h {
		if !secret.IsSealed(v) {
			out[k] = v
			continue
		}
		pt, err := r.box.OpenString(v, headerAD(endpointID, k))
		if err != nil {
			return nil, fmt.Errorf("relay: header %s of %s: %w", k, endpointID, err)
		}
		out[k] = pt
	}
	return out, nil
}

func headerNames(h map[string]string) []string {
	out := make([]string, 0, len(h))
	for k := range h {
		out = append(out, k)
	}
	return out
}

// CreateEndpoint validates and stores an endpoint with a fresh signing
// secret, returned once in plaintext.
func (r *Relay) CreateEndpoint(ctx context.Context, a Actor, in EndpointInput) (*store.Endpoint, string, error) {
	now := r.Now()
	ep := &store.Endpoint{ID: store.NewID("ep"), TeamID: a.TeamID, Enabled: true,
		SigningScheme: string(signing.StandardWebhooks), CreatedAt: now, UpdatedAt: now}
	if in.URL == nil {
		return nil, "", invalid("url", "is required")
	}
	changed, err := r.applyEndpoint(ctx, ep, in)
	if err != nil {
		return nil, "", err
	}
	if in.Enabled != nil && !*in.Enabled {
		r.switchEnabled(ep, false)
		changed["enabled"] = false
	}
	kt := KeyTypeHMAC
	if in.SigningKeyType != nil && *in.SigningKeyType != "" {
		kt = *in.SigningKeyType
	}
	if err := checkKeyType(kt, ep.SigningScheme); err != nil {
		return nil, "", err
	}
	changed["signing_key_type"] = kt
	sec, err := newEndpointSecret(ep.SigningScheme, kt)
	if err != nil {
		return nil, "", err
	}
	if sec != "" {
		ep.Secrets = []store.Secret{r.sealSecret(ep.ID, sec, nil)}
	}
	err = r.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.CreateEndpoint(ctx, ep); err != nil {
			return mapSubscriptionErr(err)
		}
		return r.audit(ctx, tx, a, "endpoint.create", "endpoint", ep.ID, map[string]any{"after": changed})
	})
	if err != nil {
		return nil, "", err
	}
	return ep, sec, nil
}

func mapSubscriptionErr(err error) error {
	if err != nil && strings.Contains(err.Error(), "subscriptions of") && strings.Contains(err.Error(), "not found") {
		return invalid("source_ids", "names a source that does not exist")
	}
	return err
}

// UpdateEndpoint changes an endpoint. Enabling or disabling it is audited
// as endpoint.enable / endpoint.disable, whoever asks and however (a PATCH
// with "enabled" too), and only when the state really changes; the other
// fields are one endpoint.update row; a request that changes nothing
// writes none.
func (r *Relay) UpdateEndpoint(ctx context.Context, a Actor, id string, in EndpointInput) (*store.Endpoint, error) {
	var out *store.Endpoint
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		ep, err := tx.LockEndpoint(ctx, a.TeamID, id)
		if err != nil {
			return err
		}
		before := map[string]any{"url": ep.URL, "event_types": ep.EventTypes,
			"source_ids": ep.SourceIDs, "signing_scheme": ep.SigningScheme, "timeout_ms": ep.TimeoutMS,
			"retry_schedule": ep.RetrySchedule}
		changed, err := r.applyEndpoint(ctx, ep, in)
		if err != nil {
			return err
		}
		// The key type lives in the secret, so it cannot change here; an
		// ed25519 key also pins the scheme, since no other scheme can
		// use it.
		kt := r.keyTypeOf(ep)
		if in.SigningKeyType != nil && *in.SigningKeyType != "" && *in.SigningKeyType != kt {
			if err := checkKeyType(*in.SigningKeyType, ep.SigningScheme); err != nil {
				return err
			}
			return invalid("signing_key_type", "cannot be changed after creation; create a new endpoint")
		}
		if kt == KeyTypeEd25519 && ep.SigningScheme != string(signing.StandardWebhooks) {
			return invalid("signing_scheme", "an endpoint with an ed25519 key can only use standard-webhooks")
		}
		if err := r.ensureSecret(ep, changed); err != nil {
			return err
		}
		switched := in.Enabled != nil && *in.Enabled != ep.Enabled
		if switched {
			r.switchEnabled(ep, *in.Enabled)
		}
		ep.UpdatedAt = r.Now()
		if err := tx.UpdateEndpoint(ctx, ep); err != nil {
			return mapSubscriptionErr(err)
		}
		out = ep
		if len(changed) > 0 { // a no-op (already disabled, say) is no mutation
			if err := r.audit(ctx, tx, a, "endpoint.update", "endpoint", id, map[string]any{"before": before, "after": changed}); err != nil {
				return err
			}
		}
		if switched {
			return r.auditSwitch(ctx, tx, a, ep)
		}
		return nil
	})
	return out, err
}

// switchEnabled sets ep's state fields for a user's enable or disable.
func (r *Relay) switchEnabled(ep *store.Endpoint, enabled bool) {
	now := r.Now()
	ep.Enabled = enabled
	if enabled {
		ep.DisabledReason, ep.DisabledAt, ep.ReenabledAt = "", nil, &now
		return
	}
	ep.DisabledReason, ep.DisabledAt, ep.LastDisabledAt, ep.ReenabledAt = "disabled by a user", &now, &now, nil
}

// auditSwitch writes the endpoint.enable or endpoint.disable row of a
// state change just made.
func (r *Relay) auditSwitch(ctx context.Context, tx *store.Store, a Actor, ep *store.Endpoint) error {
	if ep.Enabled {
		return r.audit(ctx, tx, a, "endpoint.enable", "endpoint", ep.ID, map[string]any{"before": map[string]any{"enabled": false}})
	}
	return r.audit(ctx, tx, a, "endpoint.disable", "endpoint", ep.ID, map[string]any{"reason": ep.DisabledReason,
		"before": map[string]any{"enabled": true}})
}

// ensureSecret gives an endpoint switched away from scheme none a secret:
// it was created without one, and every delivery would fail unsigned. The
// team reads it through the audited reveal (or rotates).
func (r *Relay) ensureSecret(ep *store.Endpoint, changed map[string]any) error {
	if ep.SigningScheme == string(signing.None) {
		return nil
	}
	now := r.Now()
	for _, s := range ep.Secrets {
		if s.Active(now) {
			return nil
		}
	}
	sec, err := signing.NewSecret(signing.Scheme(ep.SigningScheme))
	if err != nil {
		return err
	}
	ep.Secrets = append(ep.Secrets, r.sealSecret(ep.ID, sec, nil))
	changed["secret"] = "created"
	return nil
}

// SetEndpointEnabled enables or disables an endpoint.
func (r *Relay) SetEndpointEnabled(ctx context.Context, a Actor, id string, enabled bool) (*store.Endpoint, error) {
	return r.UpdateEndpoint(ctx, a, id, EndpointInput{Enabled: &enabled})
}

// DeleteEndpoint removes an endpoint and cancels its pending deliveries.
func (r *Relay) DeleteEndpoint(ctx context.Context, a Actor, id string) error {
	return r.st.Tx(ctx, func(tx *store.Store) error {
		ep, err := tx.GetEndpoint(ctx, a.TeamID, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteEndpoint(ctx, a.TeamID, id, r.Now()); err != nil {
			return err
		}
		return r.audit(ctx, tx, a, "endpoint.delete", "endpoint", id, map[string]any{"before": map[string]any{"url": ep.URL}})
	})
}

// RotateEndpointSecret makes a new signing secret of the same key type as
// the newest one (hmac or ed25519); the old one keeps signing alongside it
// for the grace period. It returns the new secret.
func (r *Relay) RotateEndpointSecret(ctx context.Context, a Actor, id string, grace time.Duration) (string, error) {
	if grace <= 0 {
		grace = r.opt.SecretGrace
	}
	var sec string
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		// Locked: UpdateEndpoint writes the state columns back too.
		ep, err := tx.LockEndpoint(ctx, a.TeamID, id)
		if err != nil {
			return err
		}
		kt := r.keyTypeOf(ep)
		if sec, err = newEndpointSecret(ep.SigningScheme, kt); err != nil {
			return err
		}
		if sec == "" {
			return invalid("signing_scheme", "scheme none has no secret")
		}
		ep.Secrets = r.rotate(ep.ID, ep.Secrets, sec, grace)
		ep.UpdatedAt = r.Now()
		if err := tx.UpdateEndpoint(ctx, ep); err != nil {
			return err
		}
		return r.audit(ctx, tx, a, "endpoint.secret.rotate", "endpoint", id,
			map[string]any{"grace": grace.String(), "signing_key_type": kt})
	})
	return sec, err
}
