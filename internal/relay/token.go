package relay

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"slices"
	"strings"

	"github.com/hookrelay/hookrelay/internal/provider"
	"github.com/hookrelay/hookrelay/internal/signing"
	"github.com/hookrelay/hookrelay/internal/store"
)

// Token scopes.
const (
	ScopeRead  = "read"
	ScopeWrite = "write"
)

// NewTokenString makes a bearer token: "hr_" and 256 random bits.
func NewTokenString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "hr_" + base64.RawURLEncoding.EncodeToString(b)
}

// CreateToken makes an API token for a team; the plaintext is returned once.
func (r *Relay) CreateToken(ctx context.Context, a Actor, name string, scopes []string) (string, *store.APIToken, error) {
	if strings.TrimSpace(name) == "" {
		return "", nil, invalid("name", "is required")
	}
	if err := checkLen("name", strings.TrimSpace(name), MaxNameLen); err != nil {
		return "", nil, err
	}
	if len(scopes) == 0 {
		scopes = []string{ScopeRead, ScopeWrite}
	}
	for _, s := range scopes {
		if s != ScopeRead && s != ScopeWrite {
			return "", nil, invalid("scopes", "unknown scope %q (read, write)", s)
		}
	}
	plain := NewTokenString()
	t := &store.APIToken{ID: store.NewID("tok"), TeamID: a.TeamID, Name: strings.TrimSpace(name),
		Hash: store.HashToken(plain), Prefix: plain[:7], Scopes: scopes}
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		if _, err := tx.GetTeam(ctx, a.TeamID); err != nil {
			return err
		}
		if err := tx.CreateAPIToken(ctx, t); err != nil {
			return err
		}
		return r.audit(ctx, tx, a, "api_token.create", "api_token", t.ID, map[string]any{"name": t.Name, "scopes": scopes})
	})
	if err != nil {
		return "", nil, err
	}
	return plain, t, nil
}

// Authenticate resolves a bearer token to its row; store.ErrNotFound when
// it is unknown or revoked.
func (r *Relay) Authenticate(ctx context.Context, token string) (*store.APIToken, error) {
	return r.st.APITokenByHash(ctx, store.HashToken(token), r.Now())
}

// HasScope reports whether a token carries a scope.
func HasScope(t *store.APIToken, scope string) bool { return slices.Contains(t.Scopes, scope) }

// Bootstrapped is what a first run created.
type Bootstrapped struct {
	Created      bool
	TeamID       string
	Token        string
	SourceID     string
	IngestToken  string
	SourceSecret string
	// AdminEmail and AdminPassword are the first owner account of the
	// dashboard; the password is random and printed once.
	AdminEmail    string
	AdminPassword string
}

// BootstrapAdminEmail is the first-run dashboard account.
const BootstrapAdminEmail = "admin@hookrelay.local"

// Bootstrap creates, on an empty installation only, a team, an owner
// account for the dashboard (admin@hookrelay.local, random password), an
// API token and a Stripe source with a generated secret for `hookrelay
// trigger`.
func (r *Relay) Bootstrap(ctx context.Context) (*Bootstrapped, error) {
	teams, err := r.st.ListTeams(ctx)
	if err != nil {
		return nil, err
	}
	if len(teams) > 0 {
		out := &Bootstrapped{TeamID: teams[0].ID}
		// An installation from before dashboard accounts has teams but no
		// one who can sign in: give its first team an owner.
		if n, err := r.st.CountUsers(ctx); err != nil || n > 0 {
			return out, err
		}
		out.AdminEmail, out.AdminPassword = BootstrapAdminEmail, randomToken("")[:24]
		_, err := r.CreateUser(ctx, SystemActor(out.TeamID), out.AdminEmail, "Admin", out.AdminPassword, out.TeamID, store.RoleOwner)
		return out, err
	}
	team := &store.Team{ID: store.NewID("team"), Name: "Default team"}
	a := SystemActor(team.ID)
	err = r.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.CreateTeam(ctx, team); err != nil {
			return err
		}
		return r.audit(ctx, tx, a, "team.create", "team", team.ID, map[string]any{"name": team.Name})
	})
	if err != nil {
		return nil, err
	}
	out := &Bootstrapped{Created: true, TeamID: team.ID, AdminEmail: BootstrapAdminEmail,
		AdminPassword: randomToken("")[:24]}
	if _, err := r.CreateUser(ctx, a, out.AdminEmail, "Admin", out.AdminPassword, team.ID, store.RoleOwner); err != nil {
		return nil, err
	}
	if out.Token, _, err = r.CreateToken(ctx, a, "first-run", nil); err != nil {
		return nil, err
	}
	if out.SourceSecret, err = signing.NewSecret(signing.Stripe); err != nil {
		return nil, err
	}
	name, kind := "Stripe (local)", provider.Stripe
	src, err := r.CreateSource(ctx, a, SourceInput{Name: &name, Provider: &kind, Secret: &out.SourceSecret})
	if err != nil {
		return nil, err
	}
	out.SourceID, out.IngestToken = src.ID, src.IngestToken
	return out, nil
}

// RevokeToken revokes a team's API token; requests using it get 401 from
// then on.
func (r *Relay) RevokeToken(ctx context.Context, a Actor, id string) error {
	return r.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.RevokeAPIToken(ctx, a.TeamID, id, r.Now()); err != nil {
			return err
		}
		return r.audit(ctx, tx, a, "api_token.revoke", "api_token", id, nil)
	})
}
