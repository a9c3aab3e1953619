package browser_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/device"
)

// phoneLayout is what phoneJS measures on a page.
type phoneLayout struct {
	Page   int      `json:"page"`   // document scroll width, px
	Width  int      `json:"width"`  // the viewport's
	Tables int      `json:"tables"` // tables measured
	Types  int      `json:"types"`  // event-type parts measured
	Cut    []string `json:"cut"`    // what runs past the screen or is clipped
	Broken []string `json:"broken"` // words wrapped inside, or out of their cell
}

// phoneJS measures the page as laid out: every table either fits its
// clipping box and the screen or scrolls in a wrapper that fits the
// screen; the overview's cards hold their tables (which scroll inside
// them when too wide); every part of an event type (cut at its dots)
// stays on one line inside its cell; one-word column headings stay on
// one line.
const phoneJS = `(() => {
	const w = window.innerWidth, out = {page: document.documentElement.scrollWidth, width: w, tables: 0, types: 0, cut: [], broken: []};
	const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className ? "." + String(el.className).trim().split(/\s+/).join(".") : "");
	const ox = el => getComputedStyle(el).overflowX;
	document.querySelectorAll("table").forEach(t => {
		if (!t.getClientRects().length) return; // not shown
		out.tables++;
		let box = t.parentElement;
		while (box && box !== document.body && ox(box) === "visible") box = box.parentElement;
		const r = t.getBoundingClientRect();
		if (box && box !== document.body && (ox(box) === "auto" || ox(box) === "scroll")) {
			// A scroll wrapper: it must fit the screen.
			if (box.getBoundingClientRect().right > w + 1) out.cut.push(name(t) + " in " + name(box) + " past the screen");
			return;
		}
		const edge = box && box !== document.body ? Math.min(w, box.getBoundingClientRect().right) : w;
		if (r.right > edge + 1) out.cut.push(name(t) + " " + Math.round(r.right) + " px wide, clipped at " + Math.round(edge) + " with no scroll");
	});
	document.querySelectorAll(".card").forEach(el => {
		if (el.getBoundingClientRect().right > w + 1 || el.scrollWidth > el.clientWidth + 1) out.cut.push(name(el) + " does not hold its table");
	});
	document.querySelectorAll(".etype .nw").forEach(s => {
		out.types++;
		const cell = s.closest("td, dd, li, p") || s.parentElement;
		if (s.getClientRects().length > 1) out.broken.push(s.textContent + " wraps inside a word");
		else if (s.getBoundingClientRect().right > cell.getBoundingClientRect().right + 1) out.broken.push(s.textContent + " runs out of its cell");
	});
	document.querySelectorAll("thead th").forEach(th => {
		if (!/^\S+$/.test(th.innerText.trim())) return;
		const r = document.createRange(); r.selectNodeContents(th);
		if (r.getClientRects().length > 1) out.broken.push("heading " + th.innerText.trim() + " wraps inside the word");
	});
	return out;
})()`

// On phones 390, 360 and 320 px wide the overview, with a failing
// endpoint's long URL in its attention table, and the events list, with a
// long source name next to long event types, fit the screen: tables
// scroll inside wrappers instead of running off it or being clipped, the
// overview's cards stay on it (at 320 px their tables are wider than
// they are), and event types wrap only at their dots, never inside a word.
func TestPhoneOverviewAndEventTypes(t *testing.T) {
	srv := startServer(t)
	b := newTabShots(t, srv.base, 2*time.Minute, false)
	b.n = 92 // after the queue console's
	b.open("/login")
	b.typeInto("#email", srv.email)
	b.typeInto("#password", srv.password)
	b.submit(`form[action="/login"] button[type="submit"]`)
	b.open("/sources/new")
	// A long name: the events list shows it cut at 70 % of the screen,
	// which leaves the type column little room.
	b.do("fill the source form", chromedp.SetValue(chromedp.CSS("#name"), "Stripe production account, EU storefront"),
		chromedp.SetValue(chromedp.CSS("#provider"), "stripe"), chromedp.SetValue(chromedp.CSS("#secret"), stripeSecret))
	b.submit(`form[action="/sources"] button[type="submit"]`)
	ingestURL := b.value("#ingest-url")
	sourceID := strings.TrimPrefix(b.path(), "/sources/")
	// An endpoint nobody answers at, with a long URL: it fails, so the
	// overview lists it among the endpoints needing attention.
	longURL := "http://127.0.0.1:1/webhooks/stripe/production/checkout-and-subscriptions/receiver-with-a-long-path"
	b.open("/endpoints/new")
	b.do("fill the endpoint form", chromedp.SetValue(chromedp.CSS("#url"), longURL),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name="source_ids"][value=%q]`, sourceID))))
	b.submit(`form[action="/endpoints"] button[type="submit"]`)
	postStripe(t, ingestURL, "evt_phone_1", "checkout.session.async_payment_succeeded")
	postStripe(t, ingestURL, "evt_phone_2", "customer.subscription.trial_will_end")
	b.open("/")
	b.waitText("main", 30*time.Second, true, "Endpoints needing attention", longURL)

	for _, phone := range []struct {
		dev   device.Info
		width int
		shots bool
	}{{device.IPhone12.Device(), 390, true}, {device.GalaxyS8.Device(), 360, false}, {device.IPhoneSE.Device(), 320, false}} {
		b.do("emulate "+phone.dev.Name, chromedp.Emulate(phone.dev))
		for _, p := range []struct{ path, shot string }{{"/", "phone-overview"}, {"/events", "phone-events"}} {
			b.open(p.path)
			// Open the overview's "Show as a table" boxes: their tables are the widest thing on it.
			b.do("open the tables", chromedp.Evaluate[chromedp.Void](`document.querySelectorAll("details").forEach(d => d.open = true)`))
			got, err := chromedp.Run(b.ctx, chromedp.Evaluate[phoneLayout](phoneJS))
			if err != nil {
				b.fail("measure %s: %v", p.path, err)
			}
			// A phone widens its layout to show what runs past the screen.
			if got.Width != phone.width {
				b.fail("%s on a %s: laid out %d px wide on a %d px screen", p.path, phone.dev.Name, got.Width, phone.width)
			}
			if got.Tables == 0 || got.Types == 0 {
				b.fail("%s: measured %d tables and %d event-type parts, want some", p.path, got.Tables, got.Types)
			}
			if phone.shots {
				b.shot(p.shot)
			}
			if got.Page > got.Width || len(got.Cut) > 0 || len(got.Broken) > 0 {
				b.fail("%s on a %s: page %d px in %d; cut: %s; broken: %s", p.path, phone.dev.Name, got.Page, got.Width,
					strings.Join(got.Cut, ", "), strings.Join(got.Broken, ", "))
			}
		}
	}
}
