package relay

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/hookrelay/hookrelay/internal/provider"
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
}

// NewIngestToken makes an unguessable ingest URL token (160 bits).
func NewIngestToken() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return "in_" + strings.ToLower(strings.TrimRight(base64.RawURLEncoding.EncodeToString(b), "="))
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
	src := &store.Source{ID: store.NewID("src"), TeamID: a.TeamID, IngestToken: NewIngestToken(),
		Config: json.RawMessage(`{}`), CreatedAt: now, UpdatedAt: now}
	if in.Name == nil || strings.TrimSpace(*in.Name) == "" {
		return nil, invalid("name", "is required")
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
		if err := provider.CheckSecret(src.Provider, *in.Secret); err != nil {
			return nil, invalid("secret", "%v", strings.TrimPrefix(err.Error(), "provider: "))
		}
		src.Secrets = []store.Secret{r.sealSecret(src.ID, *in.Secret, nil)}
	} else if src.Provider != provider.None {
		return nil, invalid("secret", "is required for provider %s", src.Provider)
	}
	err := r.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.CreateSource(ctx, src); err != nil {
			return err
		}
		return r.audit(ctx, tx, a, "source.create", "source", src.ID,
			map[string]any{"after": map[string]any{"name": src.Name, "provider": src.Provider, "config": src.Config}})
	})
	if err != nil {
		return nil, err
	}
	return src, nil
}

// UpdateSource changes name, config and/or rotates the secret.
func (r *Relay) UpdateSource(ctx context.Context, a Actor, id string, in SourceInput) (*store.Source, error) {
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
			if err := provider.CheckSecret(src.Provider, *in.Secret); err != nil {
				return invalid("secret", "%v", strings.TrimPrefix(err.Error(), "provider: "))
			}
			src.Secrets = r.rotate(src.ID, src.Secrets, *in.Secret, r.opt.SecretGrace)
			after["secret"] = "rotated"
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

// MaskSecrets lists the active secrets of an owner as hints ("whsec_…a1b2").
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

// hint keeps a recognisable prefix and the last four characters.
func hint(s string) string {
	prefix := ""
	if i := strings.Index(s, "_"); i > 0 && i < 8 {
		prefix = s[:i+1]
	}
	if len(s) < 12 {
		return prefix + "…"
	}
	return prefix + "…" + s[len(s)-4:]
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
