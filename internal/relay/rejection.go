package relay

import (
	"cmp"
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
)

// DefaultRejectionsPerMinute is how many rejected requests a source may
// have stored per minute, per process.
const DefaultRejectionsPerMinute = 60

// rejectionCap counts the rejections stored per source in the current
// minute of the relay's clock. It lives in the process, so the hot path
// pays a map lookup and no round trip; with N replicas a source may store
// up to N times the cap. A fixed window: at each new minute every count
// starts again, so the map only holds the sources refused this minute.
type rejectionCap struct {
	mu     sync.Mutex
	minute int64
	n      map[string]int
}

// take reports whether one more rejection of source may be stored now, and
// whether this call is the first one over the cap this minute.
func (c *rejectionCap) take(source string, now time.Time, limit int) (ok, firstOver bool) {
	m := now.Unix() / 60
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil || m != c.minute {
		c.minute, c.n = m, map[string]int{}
	}
	n := c.n[source]
	c.n[source] = n + 1
	return n < limit, n == limit
}

// RecordRejection stores a request refused for its signature (never the
// secret, never the body), at most RejectionsPerMinute per source per
// minute: a leaked ingest URL hammered with bad signatures must not fill
// the disk. Over the cap the request is still answered 401 by the caller;
// here it is only counted (hookrelay_rejected_unrecorded_total) and logged
// once per source and minute.
func (r *Relay) RecordRejection(ctx context.Context, src *store.Source, reason, remote string, h http.Header) error {
	now := r.Now()
	ok, firstOver := r.rejections.take(src.ID, now, cmp.Or(r.opt.RejectionsPerMinute, DefaultRejectionsPerMinute))
	if !ok {
		r.m.RejectionUnrecorded(src.ID)
		if firstOver {
			r.log.Warn("rejections_capped", "source_id", src.ID,
				"per_minute", cmp.Or(r.opt.RejectionsPerMinute, DefaultRejectionsPerMinute))
		}
		return nil
	}
	// The id carries the clock's time: retention deletes by id range.
	return r.st.InsertRejected(ctx, &store.RejectedRequest{ID: store.NewIDAt("rej", now), TeamID: src.TeamID,
		SourceID: src.ID, ReceivedAt: now, Reason: reason, RemoteAddr: remote, Headers: KeepHeaders(h)})
}
