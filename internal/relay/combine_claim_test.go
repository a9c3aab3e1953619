package relay_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/relay"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// One claim statement for three tasks: each gets what was claimed of its
// own requests, in its own order; a delivery two tasks asked for goes to
// the first of them only; a settled one to nobody.
func TestCombinedClaimSplitsByTask(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	w := newDeliverWorld(t, http.NotFoundHandler(), nil, clock, relay.Options{})
	ctx := context.Background()
	var ids []string
	for range 5 {
		ids = append(ids, w.event(t))
	}
	testenv.Must(t, w.st.SettleWithoutAttempt(ctx, ids[4], 0, store.StatusCancelled, "test", clock.Now()))
	req := func(is ...int) []store.ClaimRequest {
		var rs []store.ClaimRequest
		for _, i := range is {
			rs = append(rs, store.ClaimRequest{DeliveryID: ids[i], N: 1})
		}
		return rs
	}
	got, errs := relay.ClaimTogether(w.r, ctx, [][]store.ClaimRequest{req(1, 0), req(2, 1), req(3, 4)}, clock.Now())
	want := [][]string{{ids[1], ids[0]}, {ids[2]}, {ids[3]}}
	for i := range want {
		testenv.Must(t, errs[i])
		var gotIDs []string
		for _, c := range got[i] {
			gotIDs = append(gotIDs, c.DeliveryID)
			if c.Attempt != 1 {
				t.Fatalf("task %d: %s claimed as attempt %d, want 1", i, c.DeliveryID, c.Attempt)
			}
		}
		if len(gotIDs) != len(want[i]) {
			t.Fatalf("task %d got %v, want %v", i, gotIDs, want[i])
		}
		for j := range gotIDs {
			if gotIDs[j] != want[i][j] {
				t.Fatalf("task %d got %v, want %v", i, gotIDs, want[i])
			}
		}
	}
}
