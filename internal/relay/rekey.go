package relay

import (
	"context"
	"fmt"

	"github.com/hookrelay/hookrelay/internal/secret"
	"github.com/hookrelay/hookrelay/internal/store"
)

// Rekey re-encrypts every value sealed with internal/secret — source and
// endpoint secrets, endpoint header values, ingest tokens — with the
// newest key (the first of HOOKRELAY_ENCRYPTION_KEYS), and seals the
// plaintext ingest tokens and header values left from before migration
// 0007. After a run that changed everything, older keys can be removed.
//
// It works in batches, one transaction each: lock the next rows that still
// need work (in id order), re-seal them, save them, and write one audit row
// (secrets.rekey) per team in the batch in the same transaction. Rows
// already on the newest key are never read, so a run that was interrupted
// (or that raced an edit re-introducing an old key) continues where it
// stopped when run again. It never logs or returns a plaintext.

// DefaultRekeyBatch is how many rows one re-keying transaction changes.
const DefaultRekeyBatch = 500

// RekeyOptions tune a re-keying run.
type RekeyOptions struct {
	// BatchSize is the rows per transaction (default DefaultRekeyBatch).
	BatchSize int
	// PlaintextOnly seals plaintext values and leaves sealed ones as they
	// are (what `migrate up` does after migration 0007).
	PlaintextOnly bool
	// Actor is who runs it, for the audit rows (its TeamID is ignored:
	// each row goes to the team owning the changed rows).
	Actor Actor
	// Progress, if set, is called after each committed batch.
	Progress func(RekeyProgress)
}

// RekeyProgress is the state after a committed batch.
type RekeyProgress struct {
	// Table is "sources" or "endpoints".
	Table string
	// Done is how many rows of Table this run has changed so far; Total is
	// how many needed it when the run reached the table.
	Done, Total int
	// Batch counts the committed batches of the whole run.
	Batch int
}

// RekeyResult counts the rows a run changed.
type RekeyResult struct {
	Sources, Endpoints, Batches int
}

// Rekey runs a re-keying pass; see the comment at the top of rekey.go.
func (r *Relay) Rekey(ctx context.Context, o RekeyOptions) (RekeyResult, error) {
	var res RekeyResult
	if r.box == nil {
		return res, fmt.Errorf("relay: rekey: no encryption key configured")
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultRekeyBatch
	}
	if o.Actor.Kind == "" {
		o.Actor = Actor{Kind: "cli", ID: "secrets-rekey"}
	}
	rk := rekeyer{r: r, o: o, kid: r.box.KeyID()}
	f := store.RekeyFilter{KeyID: rk.kid, PlaintextOnly: o.PlaintextOnly, Limit: o.BatchSize}

	total, err := r.st.CountSourcesToRekey(ctx, f)
	if err != nil {
		return res, err
	}
	for {
		var n int
		err := r.st.Tx(ctx, func(tx *store.Store) error {
			rows, err := tx.SourcesToRekey(ctx, f)
			if err != nil || len(rows) == 0 {
				return err
			}
			teams := map[string][]string{}
			for i := range rows {
				src := &rows[i]
				if err := rk.source(src); err != nil {
					return err
				}
				if err := tx.SaveSourceSealed(ctx, src); err != nil {
					return err
				}
				teams[src.TeamID] = append(teams[src.TeamID], src.ID)
			}
			f.After, n = rows[len(rows)-1].ID, len(rows)
			return rk.audit(ctx, tx, "source", teams)
		})
		if err != nil {
			return res, err
		}
		if n == 0 {
			break
		}
		res.Sources += n
		res.Batches++
		rk.progress(RekeyProgress{Table: "sources", Done: res.Sources, Total: max(total, res.Sources), Batch: res.Batches})
	}

	f.After = ""
	if total, err = r.st.CountEndpointsToRekey(ctx, f); err != nil {
		return res, err
	}
	for {
		var n int
		err := r.st.Tx(ctx, func(tx *store.Store) error {
			rows, err := tx.EndpointsToRekey(ctx, f)
			if err != nil || len(rows) == 0 {
				return err
			}
			teams := map[string][]string{}
			for i := range rows {
				ep := &rows[i]
				if err := rk.endpoint(ep); err != nil {
					return err
				}
				if err := tx.SaveEndpointSealed(ctx, ep); err != nil {
					return err
				}
				teams[ep.TeamID] = append(teams[ep.TeamID], ep.ID)
			}
			f.After, n = rows[len(rows)-1].ID, len(rows)
			return rk.audit(ctx, tx, "endpoint", teams)
		})
		if err != nil {
			return res, err
		}
		if n == 0 {
			break
		}
		res.Endpoints += n
		res.Batches++
		rk.progress(RekeyProgress{Table: "endpoints", Done: res.Endpoints, Total: max(total, res.Endpoints), Batch: res.Batches})
	}
	return res, nil
}

// rekeyer re-seals the values of one row at a time.
type rekeyer struct {
	r   *Relay
	o   RekeyOptions
	kid string
}

func (k rekeyer) progress(p RekeyProgress) {
	if k.o.Progress != nil {
		k.o.Progress(p)
	}
}

// stale reports whether a value sealed with kid must be re-sealed.
func (k rekeyer) stale(kid string) bool { return !k.o.PlaintextOnly && kid != k.kid }

// secrets re-seals an owner's secrets, expired ones included (they stay
// in the row until the next rotation drops them).
func (k rekeyer) secrets(owner string, secrets []store.Secret) error {
	for i := range secrets {
		s := &secrets[i]
		if !k.stale(s.KeyID) {
			continue
		}
		pt, err := k.r.box.Open(s.KeyID, s.Cipher, []byte(owner))
		if err != nil {
			return fmt.Errorf("relay: rekey secret %s of %s: %w", s.ID, owner, err)
		}
		s.KeyID, s.Cipher = k.r.box.Seal(pt, []byte(owner))
	}
	return nil
}

// reseal re-seals one SealString value under the same additional data;
// a plaintext value is sealed.
func (k rekeyer) reseal(v string, ad []byte, what string) (string, error) {
	if !secret.IsSealed(v) {
		return k.r.box.SealString(v, ad), nil
	}
	if !k.stale(secret.SealedKeyID(v)) {
		return v, nil
	}
	pt, err := k.r.box.OpenString(v, ad)
	if err != nil {
		return "", fmt.Errorf("relay: rekey %s: %w", what, err)
	}
	return k.r.box.SealString(pt, ad), nil
}

func (k rekeyer) source(src *store.Source) error {
	if err := k.secrets(src.ID, src.Secrets); err != nil {
		return err
	}
	if src.APIKeySealed != "" {
		v, err := k.reseal(src.APIKeySealed, apiKeyAD(src.ID), "API key of "+src.ID)
		if err != nil {
			return err
		}
		src.APIKeySealed = v
	}
	if src.LegacyIngestToken != "" {
		src.IngestTokenSealed, src.LegacyIngestToken = k.r.box.SealString(src.LegacyIngestToken, ingestTokenAD(src.ID)), ""
		return nil
	}
	v, err := k.reseal(src.IngestTokenSealed, ingestTokenAD(src.ID), "ingest token of "+src.ID)
	src.IngestTokenSealed = v
	return err
}

func (k rekeyer) endpoint(ep *store.Endpoint) error {
	if err := k.secrets(ep.ID, ep.Secrets); err != nil {
		return err
	}
	for name, v := range ep.Headers {
		sealed, err := k.reseal(v, headerAD(ep.ID, name), "header "+name+" of "+ep.ID)
		if err != nil {
			return err
		}
		ep.Headers[name] = sealed
	}
	return nil
}

// audit writes one secrets.rekey row per team of a batch.
func (k rekeyer) audit(ctx context.Context, tx *store.Store, kind string, teams map[string][]string) error {
	for team, ids := range teams {
		a := k.o.Actor
		a.TeamID = team
		err := k.r.audit(ctx, tx, a, "secrets.rekey", kind, "", map[string]any{"key_id": k.kid,
			"ids": ids, "count": len(ids), "plaintext_only": k.o.PlaintextOnly})
		if err != nil {
			return err
		}
	}
	return nil
}
