#!/usr/bin/env bash
# test-deps.sh installs what `make test` needs beyond PostgreSQL and Redis
# (those are deploy/local-services.sh's job): Debian's chromium, which the
# real-browser test in browser/ drives headless through chromedp, and
# stripe-mock (Stripe's API on loopback for the backfill and checkout
# example tests), installed with go install into $(go env GOPATH)/bin. It
# is quiet when everything is present and prints one line per package it
# installs.
set -euo pipefail

readonly chromium=/usr/bin/chromium

prog=test-deps
# shellcheck source=deploy/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ ! -x $chromium ]]; then
	# fonts-liberation (a Recommends we skip with the rest) keeps screenshots legible.
	apt_install --no-install-recommends chromium fonts-liberation
	[[ -x $chromium ]] || die "$chromium still missing after installing chromium"
fi

readonly stripe_mock_version=v0.203.0
stripe_mock="$(go env GOPATH)/bin/stripe-mock"
# stripe-mock -version says "master"; the module version is in the binary.
if [[ ! -x $stripe_mock ]] || ! go version -m "$stripe_mock" | grep -q "stripe-mock[[:space:]]*$stripe_mock_version"; then
	echo "test-deps: installing stripe-mock $stripe_mock_version"
	go install "github.com/stripe/stripe-mock@$stripe_mock_version"
fi
