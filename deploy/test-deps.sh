#!/usr/bin/env bash
# test-deps.sh installs what `make test` needs beyond PostgreSQL and Redis
# (those are deploy/local-services.sh's job): Debian's chromium, which the
# real-browser test in browser/ drives headless through chromedp. It is quiet
# when everything is present and prints one line per package it installs.
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
