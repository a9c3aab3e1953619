// Command checkout is a small shop a team can copy: it sells through Stripe
// Checkout and Payment Links and fulfils each paid order exactly once when
// hookrelay forwards Stripe's checkout.session.completed to it.
//
// Environment:
//
//	DATABASE_URL               PostgreSQL (the fulfilments table is created at start)
//	STRIPE_SECRET_KEY          sk_test_… (Stripe test mode) or any sk_test_ for stripe-mock
//	STRIPE_API_URL             optional: stripe-mock's URL, e.g. http://127.0.0.1:12111
//	HOOKRELAY_SIGNING_SECRET   the whsec_… of this app's hookrelay endpoint
//	PUBLIC_URL                 where buyers reach this app (success and cancel URLs)
//	LISTEN                     default 127.0.0.1:3000
package main

import (
	"context"
	"errors"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv); err != nil {
		log.Fatal("checkout: ", err)
	}
}

func run(ctx context.Context, getenv func(string) string) error {
	cfg := Config{DatabaseURL: getenv("DATABASE_URL"), StripeKey: getenv("STRIPE_SECRET_KEY"),
		StripeAPIURL: getenv("STRIPE_API_URL"), SigningSecret: getenv("HOOKRELAY_SIGNING_SECRET"),
		PublicURL: getenv("PUBLIC_URL"), PaymentLinkURL: getenv("PAYMENT_LINK_URL")}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://localhost:3000"
	}
	app, err := NewApp(ctx, cfg)
	if err != nil {
		return err
	}
	defer app.Close()
	addr := getenv("LISTEN")
	if addr == "" {
		addr = "127.0.0.1:3000"
	}
	srv := &http.Server{Addr: addr, Handler: app, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	log.Printf("checkout: listening on http://%s", addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
