package relay

import (
	"context"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
)

// ClaimTogether runs the claim combiner's statement for several tasks'
// requests at once, as if they had queued behind one another, and returns
// each task's share.
func ClaimTogether(r *Relay, ctx context.Context, tasks [][]store.ClaimRequest, now time.Time) ([][]*store.Claimed, []error) {
	calls := make([]*combineCall[claimReq, []*store.Claimed], len(tasks))
	for i, t := range tasks {
		calls[i] = &combineCall[claimReq, []*store.Claimed]{req: claimReq{reqs: t, now: now}}
	}
	r.claims.exec(ctx, calls)
	out, errs := make([][]*store.Claimed, len(calls)), make([]error, len(calls))
	for i, c := range calls {
		out[i], errs[i] = c.res, c.err
	}
	return out, errs
}
