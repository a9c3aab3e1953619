package dashboard_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// A delivery the worker gave back unsent says why on the delivery and the
// event pages ("held: … until T"), not a bare "pending"; the next claim
// clears it.
func TestHeldDeliveryPagesSayWhy(t *testing.T) {
	h := newHarness(t)
	w := h.seedWorld(h.team)
	viewer := h.signIn("viewer")
	evID, dID := h.event(w, "invoice.paid", store.StatusPending, `{}`)
	st, now := store.New(h.db), time.Now().UTC()
	_, err := h.db.NewRaw(`UPDATE deliveries SET next_attempt_at = ? WHERE id = ?`, now, dID).Exec(h.ctx())
	testenv.Must(t, err)
	claim := func() {
		t.Helper()
		cs, err := st.ClaimAttempts(h.ctx(), []store.ClaimRequest{{DeliveryID: dID, N: 2}}, time.Now(), time.Second, time.Second)
		testenv.Must(t, err)
		if len(cs) != 1 {
			t.Fatalf("claimed %d", len(cs))
		}
	}
	claim()
	until := now.Add(30 * time.Second)
	reason := "endpoint circuit open (10 of 10 deliveries failing in the last 1m0s)"
	testenv.Must(t, st.PostponeAttempts(h.ctx(), []store.ClaimRequest{{DeliveryID: dID, N: 2}}, until, reason))
	want := "held: " + reason + " until " + until.Format("2006-01-02 15:04:05 UTC")
	wantBody(t, viewer.get("/deliveries/"+dID), want)
	wantBody(t, viewer.get("/events/"+evID), want)

	// Claimed again (an attempt in flight): no longer held.
	_, err = h.db.NewRaw(`UPDATE deliveries SET next_attempt_at = ? WHERE id = ?`, time.Now(), dID).Exec(h.ctx())
	testenv.Must(t, err)
	claim()
	if b := viewer.get("/deliveries/" + dID).body; strings.Contains(b, "held:") {
		t.Fatalf("claimed delivery still says held:\n%.2000s", b)
	}
}
