package dashboard_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"

	"github.com/hookrelay/hookrelay/api"
	"github.com/hookrelay/hookrelay/dashboard"
	"github.com/hookrelay/hookrelay/internal/store"
	"github.com/hookrelay/hookrelay/internal/task"
	"github.com/hookrelay/hookrelay/internal/testenv"
)

// queuesHarness is the harness with the queue console mounted, as
// cmd/hookrelay does, and one task in the deliveries queue. h.team, the
// first team created, is the operator team.
func queuesHarness(t *testing.T) *harness {
	h := newHarness(t)
	q := dashboard.NewQueueConsole(h.redis)
	t.Cleanup(func() { _ = q.Close() })
	dash := dashboard.New(dashboard.Deps{Relay: h.relay, PublicURL: "https://hooks.example.test"})
	disp := h.relay.NewDispatcher(1, 10)
	t.Cleanup(disp.Shutdown)
	h.app = api.New(api.Deps{Relay: h.relay, Dispatcher: disp, MaxBodyBytes: 64 << 10, PublicURL: "https://hooks.example.test",
		Mount: func(app *fiber.App) { dash.Mount(app); dash.MountQueues(app, q) }})
	aq := asynq.NewClient(h.redis)
	defer aq.Close()
	_, err := aq.Enqueue(task.NewDeliver(task.Deliver{DeliveryID: "dlv_console", Attempt: 1}, "", time.Now().Add(time.Hour)))
	testenv.Must(t, err)
	return h
}

// pause asks the console to pause the deliveries queue, as its page does.
func (c *client) pause(fetchSite string) response {
	req := httptest.NewRequest(http.MethodPost, "/admin/queues/api/queues/deliveries:pause", nil)
	if fetchSite != "" {
		req.Header.Set("Sec-Fetch-Site", fetchSite)
	}
	return c.do(req)
}

func TestQueueConsoleRefusesVisitorsAndNonAdmins(t *testing.T) {
	h := queuesHarness(t)
	r := h.anon().get("/admin/queues")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login?next=%2Fadmin%2Fqueues" {
		t.Fatalf("logged out: %d %q", r.status, r.header.Get("Location"))
	}
	wantStatus(t, h.anon().get("/admin/queues/api/queues"), http.StatusSeeOther)
	wantStatus(t, h.anon().pause("same-origin"), http.StatusSeeOther)
	for _, role := range []string{store.RoleViewer, store.RoleMember} {
		c := h.signIn(role)
		wantStatus(t, c.get("/admin/queues"), http.StatusForbidden)
		wantStatus(t, c.get("/admin/queues/api/queues"), http.StatusForbidden)
		wantStatus(t, c.pause("same-origin"), http.StatusForbidden)
	}
	// The queues hold every team's tasks: owning a team of one's own is
	// not enough.
	other := h.signIn(store.RoleOwner, h.newTeam("Self-made team"))
	wantStatus(t, other.get("/admin/queues"), http.StatusForbidden)
	wantStatus(t, other.pause("same-origin"), http.StatusForbidden)
}

func TestQueueConsoleReadOnlyForAdmins(t *testing.T) {
	h := queuesHarness(t)
	c := h.signIn(store.RoleAdmin)
	r := c.get("/admin/queues")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "Asynq", `window.FLAG_READ_ONLY="true"`)
	if r.header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("the console may be framed: %v", r.header)
	}
	r = c.get("/admin/queues/api/queues")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, `"queue":"deliveries"`)
	wantStatus(t, c.pause("same-origin"), http.StatusMethodNotAllowed)
}

func TestQueueConsoleFullForOwners(t *testing.T) {
	h := queuesHarness(t)
	c := h.signIn(store.RoleOwner)
	r := c.get("/admin/queues")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, `window.FLAG_READ_ONLY="false"`)
	// Writes without a same-origin marker are refused (the console's calls
	// carry no CSRF form token).
	wantStatus(t, c.pause(""), http.StatusForbidden)
	wantStatus(t, c.pause("cross-site"), http.StatusForbidden)
	req := httptest.NewRequest(http.MethodPost, "/admin/queues/api/queues/deliveries:pause", nil)
	req.Header.Set("Origin", "https://evil.example")
	wantStatus(t, c.do(req), http.StatusForbidden)

	wantStatus(t, c.pause("same-origin"), http.StatusNoContent)
	insp := asynq.NewInspector(h.redis)
	defer insp.Close()
	info, err := insp.GetQueueInfo(task.QueueDeliveries)
	testenv.Must(t, err)
	if !info.Paused {
		t.Fatal("the owner's pause did not pause the queue")
	}
}

// Issue 11 item 13: the console is in the navigation of those who may open
// it, keeps to its own origin (no outside fonts) and has a way back.
func TestQueueConsoleNavAndCSP(t *testing.T) {
	h := queuesHarness(t)
	owner := h.signIn(store.RoleOwner)
	wantBody(t, owner.get("/"), `<a href="/admin/queues"`)
	if strings.Contains(h.signIn(store.RoleMember).get("/").body, `href="/admin/queues"`) {
		t.Fatal("a member is offered the queue console")
	}
	r := owner.get("/admin/queues")
	wantStatus(t, r, http.StatusOK)
	csp := r.header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "font-src 'self'", "style-src 'self' 'unsafe-inline'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Fatalf("console CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "googleapis") {
		t.Fatalf("console CSP lets outside fonts in: %q", csp)
	}
	wantBody(t, r, `id="hookrelay-bar"`, `&larr; Back to hookrelay</a>`, `<a href="/"`, "on a phone")
	if strings.Contains(owner.get("/admin/queues/api/queues").body, "hookrelay-bar") {
		t.Fatal("the bar is added to the console's API answers")
	}
}
