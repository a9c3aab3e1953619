package browser_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"
)

// On a phone the overview fits the screen (its cards' tables scroll inside
// them instead of running off it) and event types wrap only at their dots,
// never inside a word.
func TestPhoneOverviewAndEventTypes(t *testing.T) {
	srv := startServer(t)
	b := newTabShots(t, srv.base, 2*time.Minute, false)
	b.n = 92 // after the queue console's
	b.open("/login")
	b.typeInto("#email", srv.email)
	b.typeInto("#password", srv.password)
	b.submit(`form[action="/login"] button[type="submit"]`)
	b.open("/sources/new")
	b.do("fill the source form", chromedp.SetValue(chromedp.CSS("#name"), "Stripe"),
		chromedp.SetValue(chromedp.CSS("#provider"), "stripe"), chromedp.SetValue(chromedp.CSS("#secret"), stripeSecret))
	b.submit(`form[action="/sources"] button[type="submit"]`)
	ingestURL := b.value("#ingest-url")
	postStripe(t, ingestURL, "evt_phone_1", "checkout.session.async_payment_succeeded")

	b.do("emulate a phone", chromedp.Emulate(device.IPhone12))
	for _, p := range []string{"/", "/events"} {
		b.open(p)
		// Open the overview's "Show as a table" boxes: their tables are the widest thing on it.
		b.do("open the tables", chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("details").forEach(d => d.open = true)`))
		got, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]int](`(() => {
			const w = window.innerWidth;
			let cut = 0;
			document.querySelectorAll(".card, .table-wrap").forEach(el => {
				// Past the screen's edge, or a table hidden beyond its scroll box.
				if (el.getBoundingClientRect().right > w + 1 || el.scrollWidth > el.clientWidth + 1) cut++;
			});
			let broken = 0, types = 0;
			document.querySelectorAll(".etype .nw").forEach(s => { types++; if (s.getClientRects().length > 1) broken++; });
			// One-word column headings on one line.
			document.querySelectorAll("thead th").forEach(th => {
				if (!/^\S+$/.test(th.innerText.trim())) return;
				const r = document.createRange(); r.selectNodeContents(th);
				if (r.getClientRects().length > 1) broken++;
			});
			return [document.documentElement.scrollWidth, w, cut, broken, types];
		})()`))
		if err != nil {
			b.fail("measure %s: %v", p, err)
		}
		if got[0] > got[1] || got[2] > 0 || got[3] > 0 || got[4] == 0 {
			b.shot("phone-clipped")
			b.fail("%s on a phone: page %d px in %d, %d boxes past the edge, %d words broken (of %d event-type parts, and one-word headings)",
				p, got[0], got[1], got[2], got[3], got[4])
		}
	}
	b.open("/")
	b.shot("phone-overview")
}
