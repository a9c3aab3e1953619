package relay

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/hookrelay/hookrelay/internal/provider"
	"github.com/hookrelay/hookrelay/internal/signing"
	"github.com/hookrelay/hookrelay/internal/store"
)

// SourceInput is a create or update of a source. Nil fields are unchanged
// on update.
type SourceInput struct {
	Name     *string          `json:"name"`
	Provider *string          `json:"provider"`
	Config   *json.RawMessage `json:"config"`
	// Secret is the provider's signing secret (e.g. Stripe's whsec_…).
	// On update it rotates: the old secret stays valid for the grace period.
	Secret *string `json:"secret"`
	// APIKey is a Stripe source's restricted API key (rk_…, read access
	// to Events) for backfills; sealed, never shown again. "" removes it.
	APIKey *string `json:"api_key"`
}

// NewIngestToken makes an unguessable ingest URL token (160 bits).
func NewIngestToken() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return "in_" + strings.ToLower(strings.TrimRight(base64.RawURLEncoding.EncodeToString(b), "="))
}

// ingestTokenAD binds a sealed ingest token to its source, so it cannot be
// copied to another source row (or to a secret) and still open.
func ingestTokenAD(sourceID string) []byte { return []byte(sourceID + "/ingest_token") }

// setIngestToken gives src a token: its hash for the lookup, sealed for
// display, and in memory for the caller to show once.
func (r *Relay) setIngestToken(src *store.Source, token string) {
	src.IngestToken = token
	src.IngestTokenHash = store.HashIngestToken(token)
	src.IngestTokenSealed = r.box.SealString(token, ingestTokenAD(src.ID))
	src.LegacyIngestToken = ""
}

// IngestToken returns the plaintext ingest token of a source, for showing
// its ingest URL to the team: the in-memory one of a source just made, else
// the sealed column opened, else the plaintext of a source not yet sealed.
func (r *Relay) IngestToken(src *store.Source) (string, error) {
	switch {
	case src.IngestToken != "":
		return src.IngestToken, nil
	case src.IngestTokenSealed != "":
		if r.box == nil {
			return "", errors.New("relay: no encryption key configured")
		}
		tok, err := r.box.OpenString(src.IngestTokenSealed, ingestTokenAD(src.ID))
		if err != nil {
			return "", fmt.Errorf("relay: ingest token of %s: %w", src.ID, err)
		}
		return tok, nil
	case src.LegacyIngestToken != "":
		return src.LegacyIngestToken, nil
	}
	return "", fmt.Errorf("relay: source %s has no ingest token", src.ID)
}

// IngestURL is the URL a provider posts src's webhooks to, under base
// (HOOKRELAY_PUBLIC_URL). When the token cannot be opened (its encryption
// key was removed) it says so instead of showing a broken URL.
func (r *Relay) IngestURL(base string, src *store.Source) string {
	tok, err := r.IngestToken(src)
	if err != nil {
		r.log.Warn("ingest_token_unreadable", "source_id", src.ID, "error", err.Error())
		return "(unreadable: the encryption key that sealed it is not configured)"
	}
	return base + "/in/" + tok
}

func (r *Relay) checkSource(kind string, cfg json.RawMessage) error {
	if kind == "" {
		return invalid("provider", "is required (one of %s)", strings.Join(provider.Kinds(), ", "))
	}
	var c provider.Config
	if len(cfg) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(cfg)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return invalid("config", "%v", err)
		}
	}
	if _, err := provider.New(kind, c); err != nil {
		var ce *provider.ConfigError
		if errors.As(err, &ce) {
			return invalid("config."+ce.Field, "%s", ce.Msg)
		}
		if errors.Is(err, provider.ErrUnknownKind) {
			return invalid("provider", "unknown provider %q (one of %s)", kind, strings.Join(provider.Kinds(), ", "))
		}
		return invalid("config", "%v", err)
	}
	return nil
}

// CreateSource validates and stores a new source with its first secret.
func (r *Relay) CreateSource(ctx context.Context, a Actor, in SourceInput) (*store.Source, error) {
	now := r.Now()
	src := &store.Source{ID: store.NewID("src"), TeamID: a.TeamID, Config: json.RawMessage(`{}`), CreatedAt: now, UpdatedAt: now}
	r.setIngestToken(src, NewIngestToken())
	if in.Name == nil || strings.TrimSpace(*in.Name) == "" {
		return nil, invalid("name", "is required")
	}
	if err := checkSourceInput(in); err != nil {
		return nil, err
	}
	src.Name = strings.TrimSpace(*in.Name)
	if in.Provider != nil {
		src.Provider = *in.Provider
	}
	if in.Config != nil && len(*in.Config) > 0 && string(*in.Config) != "null" {
		src.Config = *in.Config
	}
	if err := r.checkSource(src.Provider, src.Config); err != nil {
		return nil, err
	}
	if in.Secret != nil && *in.Secret != "" {
		if err := checkSourceSecret(src.Provider, *in.Secret); err != nil {
			return nil, err
		}
		src.Secrets = []store.Secret{r.sealSecret(src.ID, *in.Secret, nil)}
	} else if src.Provider != provider.None {
		return nil, invalid("secret", "is required for provider %s", src.Provider)
	}
	if in.APIKey != nil {
		if _, err := r.setAPIKey(src, *in.APIKey); err != nil {
			return nil, err
		}
	}
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.CreateSource(ctx, src); err != nil {
			return err
		}
		return r.audit(ctx, tx, a, "source.create", "source", src.ID,
			map[string]any{"after": map[string]any{"name": src.Name, "provider": src.Provider, "config": src.Config,
				"api_key": src.APIKeySealed != ""}})
	})
	if err != nil {
		return nil, err
	}
	return src, nil
}

// UpdateSource changes name, config and/or rotates the secret.
func (r *Relay) UpdateSource(ctx context.Context, a Actor, id string, in SourceInput) (*store.Source, error) {
	if err := checkSourceInput(in); err != nil {
		return nil, err
	}
	var out *store.Source
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		src, err := tx.GetSource(ctx, a.TeamID, id)
		if err != nil {
			return err
		}
		before := map[string]any{"name": src.Name, "config": src.Config}
		after := map[string]any{}
		if in.Provider != nil && *in.Provider != src.Provider {
			return invalid("provider", "cannot be changed; create a new source")
		}
		if in.Name != nil {
			if strings.TrimSpace(*in.Name) == "" {
				return invalid("name", "must not be empty")
			}
			src.Name = strings.TrimSpace(*in.Name)
			after["name"] = src.Name
		}
		if in.Config != nil {
			if err := r.checkSource(src.Provider, *in.Config); err != nil {
				return err
			}
			src.Config = *in.Config
			after["config"] = src.Config
		}
		if in.Secret != nil {
			if err := checkSourceSecret(src.Provider, *in.Secret); err != nil {
				return err
			}
			src.Secrets = r.rotate(src.ID, src.Secrets, *in.Secret, r.opt.SecretGrace)
			after["secret"] = "rotated"
		}
		if in.APIKey != nil {
			change, err := r.setAPIKey(src, *in.APIKey)
			if err != nil {
				return err
			}
			after["api_key"] = change
		}
		src.UpdatedAt = r.Now()
		if err := tx.UpdateSource(ctx, src); err != nil {
			return err
		}
		out = src
		return r.audit(ctx, tx, a, "source.update", "source", src.ID, map[string]any{"before": before, "after": after})
	})
	return out, err
}

// RotateIngestToken gives a source a new ingest URL, for one that leaked.
// The old URL stops working at once in this process and within the ingest
// cache's two seconds in the others; the provider must be given the new one.
func (r *Relay) RotateIngestToken(ctx context.Context, a Actor, id string) (*store.Source, error) {
	var out *store.Source
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		src, err := tx.GetSource(ctx, a.TeamID, id)
		if err != nil {
			return err
		}
		r.setIngestToken(src, NewIngestToken())
		src.UpdatedAt = r.Now()
		if err := tx.SetIngestToken(ctx, src); err != nil {
			return err
		}
		out = src
		return r.audit(ctx, tx, a, "source.ingest_token.rotate", "source", id, nil)
	})
	if err == nil {
		r.forgetSource(id)
	}
	return out, err
}

// DeleteSource removes a source.
func (r *Relay) DeleteSource(ctx context.Context, a Actor, id string) error {
	return r.st.Tx(ctx, func(tx *store.Store) error {
		src, err := tx.GetSource(ctx, a.TeamID, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteSource(ctx, a.TeamID, id); err != nil {
			return err
		}
		return r.audit(ctx, tx, a, "source.delete", "source", id,
			map[string]any{"before": map[string]any{"name": src.Name, "provider": src.Provider}})
	})
}

// MaskedSecret describes a secret without revealing it.
type MaskedSecret struct {
	ID        string `json:"id"`
	Hint      string `json:"hint"`
	CreatedAt string `json:"created_at"`
	ExpiresAt string `json:"expires_at,omitempty"`
}

// MaskSecrets lists the active secrets of an owner as hints: only the
// kind of secret ("whsec_…"), never any of its characters, since a
// user-chosen secret may be short or reused elsewhere.
func (r *Relay) MaskSecrets(owner string, secrets []store.Secret) []MaskedSecret {
	now := r.Now()
	out := []MaskedSecret{}
	for _, s := range secrets {
		if !s.Active(now) {
			continue
		}
		m := MaskedSecret{ID: s.ID, CreatedAt: s.CreatedAt.Format("2006-01-02T15:04:05Z07:00"), Hint: "(unreadable)"}
		if s.ExpiresAt != nil {
			m.ExpiresAt = s.ExpiresAt.Format("2006-01-02T15:04:05Z07:00")
		}
		if pt, err := r.box.Open(s.KeyID, s.Cipher, []byte(owner)); err == nil {
			m.Hint = hint(string(pt))
		}
		out = append(out, m)
	}
	return out
}

// hintPrefixes are the well-known, non-secret prefixes a hint may show.
// Stripe's API key prefixes are there so a pasted API key can be told
// apart (SecretWarning).
var hintPrefixes = []string{"whsec_", "pdl_ntfset_", signing.PrivateKeyPrefix, "sk_", "rk_", "pk_"}

// hint names the kind of a secret by its well-known prefix, if any.
func hint(s string) string {
	for _, p := range hintPrefixes {
		if strings.HasPrefix(s, p) {
			return p + "…"
		}
	}
	return "…"
}

// MinSecretLength is the shortest source secret accepted where the
// provider does not fix the format: a short shared secret can be guessed
// offline from a single signed request.
const MinSecretLength = 16

// checkSourceSecret validates a source secret for its provider. Errors
// name the field and never contain the secret.
func checkSourceSecret(kind, sec string) error {
	if err := provider.CheckSecret(kind, sec); err != nil {
		return invalid("secret", "%v", strings.TrimPrefix(err.Error(), "provider: "))
	}
	switch kind {
	case provider.None:
		return nil
	case provider.StandardWebhooks:
		// whsec_ + base64 of the key (CheckSecret made sure it decodes).
		if k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(sec, "whsec_")); err != nil || len(k) < MinSecretLength {
			return invalid("secret", "the standard-webhooks key must be at least %d bytes (whsec_ followed by base64)", MinSecretLength)
		}
		return nil
	}
	if n := utf8.RuneCountInString(sec); n < MinSecretLength {
		return invalid("secret", "must be at least %d characters for provider %s (got %d)", MinSecretLength, kind, n)
	}
	return nil
}

// RevealSecrets returns an owner's active secrets in plaintext and writes
// the audit row that an explicit reveal requires.
func (r *Relay) RevealSecrets(ctx context.Context, a Actor, kind, id string, secrets []store.Secret) ([]string, error) {
	pts, err := r.openSecrets(id, secrets)
	if err != nil {
		return nil, err
	}
	if err := r.audit(ctx, r.st, a, kind+".secret.reveal", kind, id, nil); err != nil {
		return nil, err
	}
	return pts, nil
}
