package relay

import (
	"context"

	"github.com/hookrelay/hookrelay/internal/store"
)

// CheckEndpointInput validates every field of in on its own and returns
// all their errors at once, so a form can mark each bad field in one
// round trip (Create/UpdateEndpoint stop at the first). base is the
// endpoint being edited, or nil for a new one; nothing is stored. The
// field checks are applyEndpoint's own, run on a scratch copy one field at
// a time, so the two never disagree.
func (r *Relay) CheckEndpointInput(ctx context.Context, base *store.Endpoint, in EndpointInput) []*ValidationError {
	one := []EndpointInput{
		{URL: in.URL}, {Description: in.Description}, {EventTypes: in.EventTypes}, {SourceIDs: in.SourceIDs},
		{Headers: in.Headers}, {TimeoutMS: in.TimeoutMS}, {RateLimit: in.RateLimit}, {MaxInFlight: in.MaxInFlight},
		{RetrySchedule: in.RetrySchedule}, {SigningScheme: in.SigningScheme},
	}
	var out []*ValidationError
	seen := map[string]bool{}
	for _, f := range one {
		scratch := store.Endpoint{ID: "ep_check"}
		if base != nil {
			scratch = *base
		}
		_, err := r.applyEndpoint(ctx, &scratch, f)
		if ve, ok := err.(*ValidationError); ok && !seen[ve.Field] {
			seen[ve.Field] = true
			out = append(out, ve)
		}
	}
	return out
}
