//go:build tools

// Package tools pins dependencies that later commits import, so helpers working in parallel share one go.mod.
package tools

import (
	_ "github.com/chromedp/chromedp"
	_ "github.com/go-redis/redis_rate/v10"
	_ "github.com/gofiber/fiber/v2"
	_ "github.com/gofiber/template/html/v2"
	_ "github.com/google/go-github/v66/github"
	_ "github.com/hibiken/asynq"
	_ "github.com/oklog/ulid/v2"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/redis/go-redis/v9"
	_ "github.com/slack-go/slack"
	_ "github.com/standard-webhooks/standard-webhooks/libraries/go"
	_ "github.com/stripe/stripe-go/v76/webhook"
	_ "github.com/svix/svix-webhooks/go"
	_ "github.com/twilio/twilio-go/client"
	_ "github.com/uptrace/bun"
	_ "github.com/uptrace/bun/dialect/pgdialect"
	_ "github.com/uptrace/bun/driver/pgdriver"
	_ "github.com/uptrace/bun/migrate"
	_ "golang.org/x/crypto/argon2"
)
