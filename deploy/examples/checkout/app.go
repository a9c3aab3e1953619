package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log"
	"net/http"
	"net/url"
	"sync"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"github.com/uptrace/bun/driver/pgdriver"
)

// Config is the app's configuration (see main.go).
type Config struct {
	DatabaseURL    string
	StripeKey      string
	StripeAPIURL   string
	SigningSecret  string
	PublicURL      string
	PaymentLinkURL string
}

// App is the shop: pages, the checkout redirect, and the webhook receiver.
type App struct {
	cfg    Config
	db     *sql.DB
	stripe *client.API
	wh     *standardwebhooks.Webhook
	mux    *http.ServeMux

	mu   sync.Mutex
	link string // the Payment Link made at first use, when PAYMENT_LINK_URL is unset
}

// The product on sale: one line item of Checkout and of the Payment Link.
const (
	productName = "hookrelay T-shirt"
	unitAmount  = 2000 // cents
	currency    = "usd"
)

// NewApp connects to Postgres, makes the fulfilment tables and a Stripe
// client (on STRIPE_API_URL when set: stripe-mock).
func NewApp(ctx context.Context, cfg Config) (*App, error) {
	if cfg.DatabaseURL == "" || cfg.StripeKey == "" || cfg.SigningSecret == "" {
		return nil, errors.New("DATABASE_URL, STRIPE_SECRET_KEY and HOOKRELAY_SIGNING_SECRET are required")
	}
	wh, err := standardwebhooks.NewWebhook(cfg.SigningSecret)
	if err != nil {
		return nil, fmt.Errorf("HOOKRELAY_SIGNING_SECRET: %w", err)
	}
	db := sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(cfg.DatabaseURL)))
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	var backends *stripe.Backends
	if cfg.StripeAPIURL != "" {
		backends = stripe.NewBackendsWithConfig(&stripe.BackendConfig{URL: stripe.String(cfg.StripeAPIURL)})
	}
	sc := &client.API{}
	sc.Init(cfg.StripeKey, backends)
	a := &App{cfg: cfg, db: db, stripe: sc, wh: wh, mux: http.NewServeMux(), link: cfg.PaymentLinkURL}
	a.mux.HandleFunc("GET /{$}", a.home)
	a.mux.HandleFunc("POST /checkout", a.checkout)
	a.mux.HandleFunc("GET /payment-link", a.paymentLink)
	a.mux.HandleFunc("GET /success", a.success)
	a.mux.HandleFunc("GET /cancel", a.cancel)
	a.mux.HandleFunc("POST /webhooks", a.webhook)
	return a, nil
}

func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// Close releases the database.
func (a *App) Close() error { return a.db.Close() }

var homePage = template.Must(template.New("home").Parse(`<!doctype html>
<title>Shop</title>
<h1>{{.Name}} — ${{.Price}}</h1>
<form method="post" action="/checkout"><label>Quantity <input name="quantity" value="1" size="2"></label>
<button>Buy with Checkout</button></form>
<form method="get" action="/payment-link"><label>Email <input name="email" type="email"></label>
<button>Buy with a Payment Link</button></form>`))

func (a *App) home(w http.ResponseWriter, r *http.Request) {
	_ = homePage.Execute(w, map[string]any{"Name": productName, "Price": fmt.Sprintf("%.2f", unitAmount/100.0)})
}

// checkout creates a Checkout Session and sends the buyer to it.
func (a *App) checkout(w http.ResponseWriter, r *http.Request) {
	qty := int64(1)
	if q := r.FormValue("quantity"); q != "" {
		if _, err := fmt.Sscan(q, &qty); err != nil || qty < 1 || qty > 10 {
			http.Error(w, "quantity: 1 to 10", http.StatusUnprocessableEntity)
			return
		}
	}
	params := &stripe.CheckoutSessionParams{
		Mode: stripe.String(string(stripe.CheckoutSessionModePayment)),
		LineItems: []*stripe.CheckoutSessionLineItemParams{{
			PriceData: &stripe.CheckoutSessionLineItemPriceDataParams{Currency: stripe.String(currency),
				UnitAmount:  stripe.Int64(unitAmount),
				ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String(productName)}},
			Quantity: stripe.Int64(qty),
		}},
		// Stripe fills in {CHECKOUT_SESSION_ID}: the success page can look the session up.
		SuccessURL: stripe.String(a.cfg.PublicURL + "/success?session_id={CHECKOUT_SESSION_ID}"),
		CancelURL:  stripe.String(a.cfg.PublicURL + "/cancel"),
	}
	params.Context = r.Context()
	s, err := a.stripe.CheckoutSessions.New(params)
	if err != nil {
		log.Printf("checkout: create session: %v", err)
		http.Error(w, "could not start the checkout", http.StatusBadGateway)
		return
	}
	http.Redirect(w, r, s.URL, http.StatusSeeOther)
}

// paymentLink sends the buyer to the Payment Link with their email filled in.
func (a *App) paymentLink(w http.ResponseWriter, r *http.Request) {
	link, err := a.paymentLinkURL(r.Context())
	if err != nil {
		log.Printf("checkout: payment link: %v", err)
		http.Error(w, "no payment link", http.StatusBadGateway)
		return
	}
	http.Redirect(w, r, PrefilledLink(link, r.FormValue("email")), http.StatusSeeOther)
}

// PrefilledLink adds prefilled_email to a Payment Link URL.
func PrefilledLink(link, email string) string {
	if email == "" {
		return link
	}
	u, err := url.Parse(link)
	if err != nil {
		return link
	}
	q := u.Query()
	q.Set("prefilled_email", email)
	u.RawQuery = q.Encode()
	return u.String()
}

// paymentLinkURL is PAYMENT_LINK_URL, or a link made once through the API.
func (a *App) paymentLinkURL(ctx context.Context) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.link != "" {
		return a.link, nil
	}
	pp := &stripe.PriceParams{Currency: stripe.String(currency), UnitAmount: stripe.Int64(unitAmount),
		ProductData: &stripe.PriceProductDataParams{Name: stripe.String(productName)}}
	pp.Context = ctx
	price, err := a.stripe.Prices.New(pp)
	if err != nil {
		return "", err
	}
	lp := &stripe.PaymentLinkParams{LineItems: []*stripe.PaymentLinkLineItemParams{{Price: stripe.String(price.ID), Quantity: stripe.Int64(1)}}}
	lp.Context = ctx
	pl, err := a.stripe.PaymentLinks.New(lp)
	if err != nil {
		return "", err
	}
	a.link = pl.URL
	return a.link, nil
}

func (a *App) success(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintf(w, "Thank you! Order %s is paid; it ships once the payment is confirmed.\n", template.HTMLEscapeString(r.FormValue("session_id")))
}

func (a *App) cancel(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintln(w, "Checkout cancelled; nothing was charged.")
}

// webhook receives what hookrelay forwards: it verifies hookrelay's
// Standard Webhooks signature (not Stripe's: hookrelay verified that one),
// then fulfils a paid checkout session once per event. A repeated event
// (hookrelay redelivers until it gets a 2xx) is answered 200 and does
// nothing.
func (a *App) webhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	if err := a.wh.Verify(body, r.Header); err != nil {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var ev stripe.Event
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID == "" {
		http.Error(w, "not a Stripe event", http.StatusBadRequest)
		return
	}
	if err := a.handle(r.Context(), &ev); err != nil {
		log.Printf("checkout: event %s: %v", ev.ID, err)
		http.Error(w, "try again", http.StatusInternalServerError) // hookrelay retries
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handle records the event and, for a paid session, its fulfilment, in one
// transaction: the event id is the key, so a redelivery finds it and stops.
func (a *App) handle(ctx context.Context, ev *stripe.Event) error {
	switch ev.Type {
	case "checkout.session.completed", "checkout.session.async_payment_succeeded":
	default:
		return nil // not ours
	}
	var cs stripe.CheckoutSession
	if err := json.Unmarshal(ev.Data.Raw, &cs); err != nil {
		return fmt.Errorf("decode session: %w", err)
	}
	if cs.PaymentStatus != stripe.CheckoutSessionPaymentStatusPaid {
		return nil // async payment still pending: async_payment_succeeded follows
	}
	return fulfil(ctx, a.db, ev.ID, &cs)
}
