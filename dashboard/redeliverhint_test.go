package dashboard_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/hookrelay/hookrelay/internal/delivery"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// Issue 11 item 3: before anyone clicks Redeliver, the delivery page says
// what it will do: go now, wait for the open circuit (until when), wait
// for a paused endpoint, or fail on a disabled one.
func TestRedeliverHintSaysWhatWillHappen(t *testing.T) {
	h := newHarness(t)
	w := h.seedWorld(h.team)
	_, dID := h.event(w, "invoice.paid", store.StatusFailed, `{}`)
	member := h.signIn("member")
	path, ep := "/deliveries/"+dID, "/endpoints/"+w.ep.ID
	hint := regexp.MustCompile(`<span class="hint" id="redeliver-hint">([^<]*)</span>`)
	hintOf := func() string {
		t.Helper()
		r := member.get(path)
		wantStatus(t, r, 200)
		m := hint.FindStringSubmatch(r.body)
		if m == nil {
			t.Fatalf("no Redeliver hint on %s", path)
		}
		return m[1]
	}
	if got := hintOf(); got != "Sends a new attempt now, whatever the status." {
		t.Fatalf("healthy endpoint: %q", got)
	}
	_, err := h.gate.Report(h.ctx(), w.ep.ID, delivery.Outcome{Status: 503, RetryAfter: 10 * time.Minute}, false)
	testenv.Must(t, err)
	_, until, err := h.gate.State(h.ctx(), w.ep.ID)
	testenv.Must(t, err)
	if got, want := hintOf(), "The endpoint&#39;s circuit is open: a new attempt waits until about "+
		until.UTC().Format("2006-01-02 15:04:05 UTC")+"."; got != want {
		t.Fatalf("open circuit: %q, want %q", got, want)
	}
	wantStatus(t, member.post(ep+"/pause", nil), 303)
	if got := hintOf(); got != "The endpoint is paused: a new attempt waits until it is resumed." {
		t.Fatalf("paused endpoint: %q", got)
	}
	wantStatus(t, member.post(ep+"/resume", nil), 303)
	wantStatus(t, member.post(ep+"/disable", nil), 303)
	if got := hintOf(); got != "The endpoint is disabled: a new attempt would be marked failed without a request. Enable the endpoint first." {
		t.Fatalf("disabled endpoint: %q", got)
	}
}
