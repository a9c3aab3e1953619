package browser_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"
)

// Values at their length limits (a 200-character source name without a
// space, a 2,048-character URL, a 1,000-character description) never make
// a page wider than the window, on a desktop and on a phone; lists cut
// them with an ellipsis and keep the full text on hover (title).
func TestLongValuesFitTheWindow(t *testing.T) {
	srv := startServer(t)
	// Keep TestDashboardInBrowser's screenshots (it runs first and cleans).
	b := newTabShots(t, srv.base, 2*time.Minute, false)
	b.n = 80
	b.open("/login")
	b.typeInto("#email", srv.email)
	b.typeInto("#password", srv.password)
	b.submit(`form[action="/login"] button[type="submit"]`)

	name := strings.Repeat("N", 200)
	url := "https://hooks.example.com/" + strings.Repeat("u", 2048-len("https://hooks.example.com/"))
	b.open("/sources/new")
	b.do("fill the source form", chromedp.SetValue(chromedp.CSS("#name"), name),
		chromedp.SetValue(chromedp.CSS("#provider"), "stripe"), chromedp.SetValue(chromedp.CSS("#secret"), stripeSecret))
	b.submit(`form[action="/sources"] button[type="submit"]`)
	sourcePath := b.path()
	b.open("/endpoints/new")
	b.do("fill the endpoint form", chromedp.SetValue(chromedp.CSS("#url"), url),
		chromedp.SetValue(chromedp.CSS("#description"), strings.Repeat("d", 1000)),
		chromedp.Click(chromedp.CSS(`input[name="source_ids"]`)))
	b.submit(`form[action="/endpoints"] button[type="submit"]`)
	endpointPath := b.path()
	if !strings.HasPrefix(endpointPath, "/endpoints/ep_") {
		b.fail("endpoint not created: on %s", endpointPath)
	}

	for _, size := range []struct {
		name string
		emu  chromedp.Action[chromedp.Void]
	}{
		{"desktop", chromedp.EmulateViewport(1280, 900)},
		{"phone", chromedp.Emulate(device.IPhone12)},
	} {
		b.do("emulate "+size.name, size.emu)
		for _, p := range []string{"/endpoints/new", "/endpoints", endpointPath, endpointPath + "/edit",
			"/sources", sourcePath, "/events", "/bulk"} {
			b.open(p)
			got, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`))
			if err != nil {
				b.fail("measure %s: %v", p, err)
			}
			if len(got) != 2 || got[0] > got[1] {
				b.shot(fmt.Sprintf("too-wide-%s", size.name))
				b.fail("%s on a %s: page is %v px wide in a window of %v", p, size.name, got[0], got[1])
			}
		}
	}
	b.open("/endpoints")
	title, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector('a.trunc[href="`+endpointPath+`"]').title`))
	if err != nil {
		b.fail("read the hover text: %v", err)
	}
	if title != url {
		b.fail("the endpoint list's hover text is %d characters, want the whole URL (%d)", len(title), len(url))
	}
	b.shot("long-values")
}
