#!/usr/bin/env bash
# test-stress.sh runs `make test` STRESS_RUNS times (default 5) while two
# CPU hogs (`yes >/dev/null`) keep both cores of a CI-sized machine busy,
# and stops at the first failure. A test that passes here does not depend
# on how fast a loaded machine happens to be. The hogs are killed on exit,
# however the script ends.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

prog=test-stress
# shellcheck source=deploy/lib.sh
source deploy/lib.sh

runs=${STRESS_RUNS:-5}
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "STRESS_RUNS must be a positive integer, not '$runs'"
make=${MAKE:-make}

hogs=()
stop_hogs() {
	local pid
	for pid in "${hogs[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
}
trap stop_hogs EXIT
trap 'exit 130' INT TERM

for _ in 1 2; do
	yes >/dev/null &
	hogs+=("$!")
done
say "CPU hogs running (pids ${hogs[*]}); $runs run(s) of make test"

for ((i = 1; i <= runs; i++)); do
	start=$SECONDS
	if ! "$make" --no-print-directory test; then
		say "run $i of $runs FAILED after $((SECONDS - start)) s"
		exit 1
	fi
	say "run $i of $runs passed in $((SECONDS - start)) s"
done
say "all $runs runs passed under load"
