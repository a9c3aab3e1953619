# hookrelay developer commands. deploy/local-services.sh installs and starts
# PostgreSQL and Redis on loopback when they are missing, so `make run` and
# `make test` work on a fresh Debian machine.

GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: run test test-stress bench bench-all bench-size chaos build fmt lint clean

run:
	deploy/run-local.sh

# -count=1: tests hit real Postgres and Redis, so a cached pass proves nothing.
test:
	deploy/local-services.sh
	deploy/test-deps.sh
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 12m ./...
	# Helm chart, compose file and Docker build command: a module of its own
	# (helm, k8s.io and compose-go stay out of the relay's go.mod).
	cd deploy/helm/charttest && $(GO) vet ./... && $(GO) test -count=1 -timeout 15m ./...
	# The Stripe Checkout example: its own module too (it runs hookrelay,
	# stripe-mock and its own Redis; ~30 s).
	cd deploy/examples/checkout && $(GO) vet ./... && $(GO) test -count=1 ./...

# make test STRESS_RUNS times (default 5) with both cores kept busy by two
# `yes >/dev/null` loops, stopping at the first failure: what CI's busy
# 2-core machines do to the suite.
test-stress:
	STRESS_RUNS=$(or $(STRESS_RUNS),5) MAKE="$(MAKE)" deploy/test-stress.sh

# BENCH_* knobs reach the program as environment variables, set either way:
# BENCH_X=1 make bench, or make bench BENCH_X=1.
bench:
	deploy/local-services.sh
	$(GO) run ./deploy/bench

# Issue 10's target scenarios in sequence (serve, closed loop, open loop,
# lone event, fairness) and a table of target, measured value and
# PASS/FAIL; exits 1 unless every target is met. About 2–3 minutes with
# the defaults (BENCH_OPEN_DURATION=60s); knobs as for bench.
bench-all:
	deploy/local-services.sh
	BENCH_SUITE=1 $(GO) run ./deploy/bench

# The dashboard and API at size: seeds BENCH_SIZE_EVENTS (10 M) events into
# the scratch database hookrelay_size once (about an hour on a busy 2-core
# machine; reused by later runs) and prints p50/p95 of the events list, its
# filters, the next page and the detail pages. Knobs: deploy/benchsize.
bench-size:
	deploy/local-services.sh
	$(GO) run ./deploy/benchsize

# Fault injection, long run: thousands of signed events per scenario over a
# minute while the worker is kill -9'd, Redis is wiped and Postgres is
# stopped, each three times. The suite starts its own Redis and PostgreSQL
# cluster in a temporary directory (local-services.sh only makes sure the
# binaries are installed). `make test` runs the short version. Knobs:
# CHAOS_EVENTS, CHAOS_LOAD (e.g. 90s), CHAOS_BINARY (a prebuilt hookrelay),
# CHAOS_KEEP=1 (keep logs and data of a failed run). See chaos/README.md.
chaos:
	deploy/local-services.sh
	CHAOS_LONG=1 $(GO) test -race -count=1 -v -timeout 30m -run '^TestChaos$$' ./chaos/

build:
	$(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o bin/hookrelay ./cmd/hookrelay

fmt:
	@out=$$(gofmt -l .); \
	if [ -n "$$out" ]; then echo "gofmt needed (run gofmt -w):"; echo "$$out"; exit 1; fi

lint: fmt
	$(GO) vet ./...

clean:
	rm -rf bin
