package browser_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stripe/stripe-go/v76/webhook"
)

const stripeSecret = "whsec_browser_test_0123456789abcdef"

// TestDashboardInBrowser uses the dashboard as a person would, in headless
// Chromium against a real `hookrelay all`: sign in, create a Stripe source
// and an endpoint through the forms, watch a signed event get delivered,
// watch a delivery fail against a broken endpoint, redeliver it from the
// delivery page once the endpoint is back, and find all of it in the audit
// log. Each step leaves a screenshot in screenshots/.
func TestDashboardInBrowser(t *testing.T) {
	start := time.Now()
	srv := startServer(t)
	sk := newSink(t)
	b := newTab(t, srv.base, 3*time.Minute)

	// 1. Sign in with the owner account admin bootstrap printed.
	b.open("/")
	if p := b.path(); !strings.HasPrefix(p, "/login") {
		b.fail("signed out, / should send to /login, got %s", p)
	}
	b.typeInto("#email", srv.email)
	b.typeInto("#password", srv.password)
	b.shot("login")
	b.submit(`form[action="/login"] button[type="submit"]`)
	b.waitText("header.top", 5*time.Second, false, srv.email, "Sign out")
	b.shot("overview")

	// 2. A Stripe source through the form.
	b.submit(`nav a[href="/sources"]`)
	b.submit(`a[href="/sources/new"]`)
	b.typeInto("#name", "Stripe payments")
	b.do("pick provider", chromedp.SetValue(chromedp.CSS("#provider"), "stripe"))
	b.typeInto("#secret", stripeSecret)
	b.shot("source-new")
	b.submit(`form[action="/sources"] button[type="submit"]`)
	b.waitText("main", 5*time.Second, false, "Source created", "Stripe payments", "Ingest URL")
	sourceID := strings.TrimPrefix(b.path(), "/sources/")
	ingestURL := b.value("#ingest-url")
	if !strings.HasPrefix(sourceID, "src_") || !strings.HasPrefix(ingestURL, srv.base+"/in/in_") {
		b.fail("source page: id %q, ingest URL %q", sourceID, ingestURL)
	}
	b.shot("source")

	// 3. An endpoint at the sink, subscribed to that source.
	b.submit(`nav a[href="/endpoints"]`)
	b.submit(`a[href="/endpoints/new"]`)
	b.typeInto("#url", sk.url())
	b.typeInto("#description", "Billing service")
	b.typeInto("#rate_limit", "50")
	b.typeInto("#max_in_flight", "4")
	b.do("tick the source", chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[name="source_ids"][value=%q]`, sourceID))))
	b.shot("endpoint-new")
	b.submit(`form[action="/endpoints"] button[type="submit"]`)
	// Redirect-after-POST: the new secret is shown once on the endpoint's page.
	b.waitText("main", 5*time.Second, false, "Endpoint created", sk.url(), "enabled", "Stripe payments",
		"New signing secret", "50 requests per second", "at most 4 at once")
	endpointPath := b.path()
	b.shot("endpoint")

	// 4. Stripe sends a signed event; it reaches the sink byte for byte and
	// the events list shows it delivered.
	body1, ev1 := postStripe(t, ingestURL, "evt_browser_ok", "payment_intent.succeeded")
	b.submit(`nav a[href="/events"]`)
	b.waitText("[data-live]", 20*time.Second, false, "payment_intent.succeeded", "1 succeeded")
	b.shot("events")
	b.submit(fmt.Sprintf(`a[href="/events/%s"]`, ev1))
	b.waitText("main", 5*time.Second, false, "signature verified", "succeeded", "evt_browser_ok", sk.url())
	b.shot("event-delivered")
	if n := sk.count(body1); n != 1 {
		b.fail("sink got the first event's exact bytes %d times, want 1", n)
	}

	// 5. The endpoint breaks: the next event fails after its retries, and
	// the delivery page shows every attempt with the 500 and its body.
	sk.setStatus(http.StatusInternalServerError)
	body2, ev2 := postStripe(t, ingestURL, "evt_browser_fail", "invoice.payment_failed")
	b.open("/events/" + ev2)
	b.submit(`main table a[href^="/deliveries/"]`)
	b.waitText("[data-live]", 30*time.Second, false, "failed", "Attempt 3", "HTTP 500", "sink is down for the test")
	b.shot("delivery-failed")
	if n := sk.count(body2); n != 3 {
		b.fail("sink got the failing event %d times, want 3 (1 try + 2 retries)", n)
	}

	// 6. The endpoint is back: Redeliver from the delivery page succeeds.
	sk.setStatus(http.StatusOK)
	b.submit(`form[action$="/redeliver"] button[type="submit"]`)
	b.waitText("main", 5*time.Second, false, "Redelivery queued")
	b.waitText("[data-live]", 20*time.Second, false, "succeeded", "Attempt 4", "manual", "HTTP 200")
	b.shot("delivery-redelivered")
	if n := sk.count(body2); n != 4 {
		b.fail("sink got the redelivered event %d times in all, want 4", n)
	}

	// 7. The audit log has the sign-in, both creations and the redelivery.
	b.submit(`nav a[href="/audit"]`)
	b.waitText("main table", 5*time.Second, true, "user.login", "source.create", sourceID, "endpoint.create", "delivery.redeliver")
	b.shot("audit")

	// The endpoint's page after the failures, then the team page with an
	// invite cancelled.
	b.open(endpointPath)
	b.shot("endpoint-after")
	b.submit(`nav a[href="/team"]`)
	b.typeInto("#invite-email", "ann@example.com")
	b.submit(`form[action="/team/invites"] button[type="submit"]`)
	b.waitText("main", 5*time.Second, false, "Invite link", "member for ann@example.com")
	b.shot("team-invite")
	b.do("accept the confirm dialog", chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`))
	b.submit(`form[action$="/revoke"] button[type="submit"]`)
	b.waitText("main", 5*time.Second, false, "Invite cancelled")

	// The same delivery page at a phone's width, for people to look at.
	b.do("phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	b.open("/events/" + ev2)
	b.shot("phone-event")
	b.open(endpointPath)
	b.shot("phone-endpoint")
	b.open("/audit")
	b.shot("phone-audit")
	t.Logf("build, bootstrap and browser run took %s", time.Since(start).Round(time.Millisecond))
}

// postStripe sends a Stripe-signed event to the ingest URL as Stripe would
// and returns the exact body and hookrelay's event id.
func postStripe(t *testing.T, ingestURL, id, typ string) ([]byte, string) {
	t.Helper()
	body := fmt.Appendf(nil, `{"id":%q,"object":"event","api_version":"2023-10-16","created":%d,"type":%q,`+
		`"livemode":false,"data":{"object":{"id":"pi_browser","object":"payment_intent","amount":2000,"currency":"eur"}}}`,
		id, time.Now().Unix(), typ)
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: stripeSecret, Timestamp: time.Now()})
	req, err := http.NewRequest(http.MethodPost, ingestURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", signed.Header)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK || out.ID == "" {
		t.Fatalf("ingest %s: HTTP %d, id %q, %v", id, resp.StatusCode, out.ID, err)
	}
	return body, out.ID
}
