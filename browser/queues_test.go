package browser_test

import (
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The queue console (asynqmon) renders under its Content-Security-Policy,
// asks no outside host for anything (its page links Google's fonts), and
// shows the way back to the dashboard; the navigation links to it.
func TestQueueConsoleStaysOnOrigin(t *testing.T) {
	srv := startServer(t)
	b := newTabShots(t, srv.base, 2*time.Minute, false)
	b.n = 90 // after TestDashboardInBrowser's screenshots
	base, err := url.Parse(srv.base)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	sent := map[network.RequestID]string{}
	blocked := map[network.RequestID]bool{}
	if err := chromedp.Listen(b.ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			sent[e.RequestID] = e.Request.URL
		case *network.EventLoadingFailed:
			blocked[e.RequestID] = e.BlockedReason != ""
		}
	}); err != nil {
		t.Fatal(err)
	}

	b.open("/login")
	b.typeInto("#email", srv.email)
	b.typeInto("#password", srv.password)
	b.submit(`form[action="/login"] button[type="submit"]`)
	b.submit(`nav a[href="/admin/queues"]`)
	// Rendered: asynqmon's React app drew its queue table from its API.
	b.waitText("#root", 20*time.Second, false, "deliveries")
	b.waitText("#hookrelay-bar", 2*time.Second, false, "Back to hookrelay")
	b.shot("queues")

	mu.Lock()
	for id, u := range sent {
		p, err := url.Parse(u)
		if err != nil || p.Scheme == "data" || p.Host == base.Host {
			continue
		}
		if !blocked[id] {
			t.Errorf("the console asked an outside host: %s", u)
		}
	}
	n := len(sent)
	mu.Unlock()
	if n == 0 {
		t.Fatal("no request seen: the listener is not working")
	}
	b.submit(`#hookrelay-bar a[href="/"]`)
	if p := b.path(); p != "/" && !strings.HasPrefix(p, "/?") {
		b.fail("the way back leads to %s", p)
	}
}
