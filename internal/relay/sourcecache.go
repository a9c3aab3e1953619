package relay

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/hookrelay/hookrelay/internal/provider"
	"github.com/hookrelay/hookrelay/internal/store"
)

// sourceTTL is how long an ingest URL's source, verifier and decrypted
// secrets are reused. A change (rotation, deletion) takes effect within it;
// in exchange ingest does no lookup, JSON parse or decryption per request.
const sourceTTL = 2 * time.Second

// maxCachedSources bounds the cache; past it the cache starts over.
const maxCachedSources = 10000

// IngestSource is a source ready to verify requests.
type IngestSource struct {
	Source   *store.Source
	verifier provider.Verifier
	secrets  []string
	expires  time.Time
}

type sourceCache struct {
	mu sync.Mutex
	m  map[string]*IngestSource
}

// SourceForIngest returns the source an ingest token names, from a short
// cache; store.ErrNotFound when there is none.
func (r *Relay) SourceForIngest(ctx context.Context, token string) (*IngestSource, error) {
	now := r.now()
	r.sources.mu.Lock()
	s, ok := r.sources.m[token]
	r.sources.mu.Unlock()
	if ok && now.Before(s.expires) {
		return s, nil
	}
	src, err := r.st.SourceByToken(ctx, token)
	if err != nil {
		return nil, err
	}
	s, err = r.prepareSource(src)
	if err != nil {
		return nil, err
	}
	s.expires = now.Add(sourceTTL)
	r.sources.mu.Lock()
	if r.sources.m == nil || len(r.sources.m) >= maxCachedSources {
		r.sources.m = map[string]*IngestSource{}
	}
	r.sources.m[token] = s
	r.sources.mu.Unlock()
	return s, nil
}

// forgetSource drops a source's cached entries, so a change to its ingest
// URL takes effect at once in this process (others within sourceTTL).
func (r *Relay) forgetSource(id string) {
	r.sources.mu.Lock()
	defer r.sources.mu.Unlock()
	for tok, s := range r.sources.m {
		if s.Source.ID == id {
			delete(r.sources.m, tok)
		}
	}
}

func (r *Relay) prepareSource(src *store.Source) (*IngestSource, error) {
	var cfg provider.Config
	if err := json.Unmarshal(src.Config, &cfg); err != nil {
		return nil, fmt.Errorf("relay: source %s config: %w", src.ID, err)
	}
	if src.Provider == provider.Stripe && cfg.Tolerance == 0 && r.opt.StripeTolerance > 0 {
		cfg.Tolerance = provider.Duration(r.opt.StripeTolerance)
	}
	v, err := provider.New(src.Provider, cfg)
	if err != nil {
		return nil, fmt.Errorf("relay: source %s: %w", src.ID, err)
	}
	secrets, err := r.openSecrets(src.ID, src.Secrets)
	if err != nil {
		return nil, err
	}
	return &IngestSource{Source: src, verifier: v, secrets: secrets}, nil
}

// Verify checks a request against the source's secrets and configuration.
// A *provider.Rejection means 401; provider.ErrMalformed means 400.
func (s *IngestSource) Verify(req *provider.Request) (provider.Result, error) {
	return s.verifier.Verify(req, s.secrets)
}
