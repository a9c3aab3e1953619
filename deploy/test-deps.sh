#!/usr/bin/env bash
# test-deps.sh installs what `make test` needs beyond PostgreSQL and Redis
# (those are deploy/local-services.sh's job): Debian's chromium, which the
# real-browser test in browser/ drives headless through chromedp. It is quiet
# when everything is present and prints one line per package it installs.
set -euo pipefail

readonly chromium=/usr/bin/chromium

say() { printf 'test-deps: %s\n' "$*"; }
die() {
	printf 'test-deps: error: %s\n' "$*" >&2
	exit 1
}

# as_root runs a command as root, through sudo when we are not root.
as_root() {
	if [[ $EUID -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		die "root is needed to run '$*': run this script as root, or install sudo"
	fi
}

# install_packages installs Debian packages quietly; on failure it shows apt's output.
install_packages() {
	command -v apt-get >/dev/null || die "$* missing and apt-get not found: install it yourself"
	say "installing $* with apt-get"
	local log
	log=$(mktemp)
	if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$log" 2>&1 ||
		! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >>"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$log"
		die "apt-get install $* failed"
	fi
	rm -f "$log"
}

if [[ ! -x $chromium ]]; then
	# fonts-liberation (a Recommends we skip with the rest) keeps screenshots legible.
	install_packages chromium fonts-liberation
	[[ -x $chromium ]] || die "$chromium still missing after installing chromium"
fi
