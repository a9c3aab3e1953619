#!/usr/bin/env bash
# run-local.sh is `make run`: it brings up PostgreSQL and Redis when missing,
# keeps a local encryption key in .local/, builds hookrelay, migrates,
# bootstraps an admin (printing the token, dashboard URL and a trigger
# command) and then runs the API, dashboard and worker in one process.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

deploy/local-services.sh

# The key encrypts secrets at rest, so it must survive restarts: losing it
# makes every stored secret unreadable. Generate it once and reuse it.
key_file=.local/encryption.key
if [[ ! -s $key_file ]]; then
	mkdir -p .local
	if command -v openssl >/dev/null; then
		key=$(openssl rand -base64 32)
	else
		key=$(head -c32 /dev/urandom | base64)
	fi
	(umask 077 && printf 'k1:%s\n' "$key" >"$key_file")
	echo "run-local: created $key_file (keep it: it decrypts the stored secrets)"
fi
chmod 600 "$key_file"
# An explicit HOOKRELAY_ENCRYPTION_KEYS wins, e.g. to test key rotation.
export HOOKRELAY_ENCRYPTION_KEYS="${HOOKRELAY_ENCRYPTION_KEYS:-$(<"$key_file")}"
export HOOKRELAY_ENV="${HOOKRELAY_ENV:-local}"

version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
go build -ldflags "-X main.version=$version" -o bin/hookrelay ./cmd/hookrelay

bin/hookrelay migrate up
bin/hookrelay admin bootstrap
exec bin/hookrelay all
