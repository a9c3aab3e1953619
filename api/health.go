package api

import (
	"context"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// healthz answers while the process is up.
func (s *server) healthz(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) }

// readyz answers 200 only when every dependency check passes (PostgreSQL,
// Redis, the schema). Anyone can call it, so it names each dependency with
// "ok" or "unavailable" and nothing more: the error text (addresses, user
// names, driver messages) goes to the log.
func (s *server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
	defer cancel()
	checks := make(map[string]string, len(s.Ready))
	var mu sync.Mutex
	var wg sync.WaitGroup
	// Concurrently, so one hung dependency does not eat the others' time.
	for name, check := range s.Ready {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := check(ctx)
			mu.Lock()
			defer mu.Unlock()
			checks[name] = "ok"
			if err != nil {
				checks[name] = "unavailable"
				s.Logger.Warn("readiness_check_failed", "dependency", name, "error", err.Error())
			}
		}()
	}
	wg.Wait()
	for _, v := range checks {
		if v != "ok" {
			return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "checks": checks})
		}
	}
	return c.JSON(fiber.Map{"status": "ready", "checks": checks})
}
