# shellcheck shell=bash
# lib.sh holds the shell helpers deploy/local-services.sh and
# deploy/test-deps.sh share. Source it after setting `prog` (the prefix of
# every message).

say() { printf '%s: %s\n' "${prog:?set prog before sourcing lib.sh}" "$*"; }
die() {
	printf '%s: error: %s\n' "$prog" "$*" >&2
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

# apt_install [--no-install-recommends] PKG… installs Debian packages
# quietly (apt-get update first); on failure it shows apt's output.
apt_install() {
	command -v apt-get >/dev/null || die "$* missing and apt-get not found: install it yourself"
	say "installing ${*#--no-install-recommends} with apt-get"
	local log
	log=$(mktemp)
	if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$log" 2>&1 ||
		! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >>"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$log"
		die "apt-get install $* failed"
	fi
	rm -f "$log"
}
