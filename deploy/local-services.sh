#!/usr/bin/env bash
# local-services.sh makes sure PostgreSQL and Redis answer on their standard
# loopback ports and that the hookrelay role and database exist, so `make run`
# and `make test` work on a fresh Debian machine. It installs, starts and
# creates only what is missing, prints one line per action it takes, and
# leaves running services alone (it never stops or restarts them).
#
# It starts services directly (pg_ctlcluster, redis-server --daemonize)
# rather than through systemctl, because containers and CI have no systemd.
set -euo pipefail

readonly pg_host=127.0.0.1 pg_port=5432
readonly redis_host=127.0.0.1 redis_port=6379
readonly redis_dir=/var/lib/redis redis_log=/var/log/redis/hookrelay-local.log
readonly wait_seconds=30
# The app's own credentials; tests create hookrelay_test_* databases, hence CREATEDB.
readonly app_role=hookrelay app_password=hookrelay app_db=hookrelay

prog=local-services
# shellcheck source=deploy/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# as_user runs a command as another OS user (postgres, redis) from /, so the
# user need not be able to read the current directory.
as_user() {
	local user=$1
	shift
	if [[ $EUID -eq 0 ]]; then
		(cd / && runuser -u "$user" -- "$@")
	elif [[ $(id -un) == "$user" ]]; then
		(cd / && "$@")
	else
		(cd / && as_root -u "$user" "$@")
	fi
}

# install_packages installs Debian packages quietly; on failure it shows apt's output.
installed_now=()
install_packages() {
	command -v apt-get >/dev/null ||
		die "$* missing and apt-get not found: install PostgreSQL and Redis yourself"
	if [[ $EUID -ne 0 ]] && ! command -v sudo >/dev/null; then
		die "$* missing: run this script as root (or install sudo) so it can apt-get install them"
	fi
	apt_install "$@"
	installed_now+=("$@")
}

pg_server_installed() {
	command -v pg_ctlcluster >/dev/null && command -v pg_isready >/dev/null &&
		compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}
pg_ready() { pg_isready -q -h "$pg_host" -p "$pg_port" -t 2 >/dev/null 2>&1; }
redis_ready() { [[ $(redis-cli -h "$redis_host" -p "$redis_port" ping 2>/dev/null) == PONG ]]; }

ensure_installed() {
	local missing=()
	pg_server_installed || missing+=(postgresql)
	command -v redis-server >/dev/null && command -v redis-cli >/dev/null || missing+=(redis-server)
	if ((${#missing[@]})); then
		install_packages "${missing[@]}"
	fi
	pg_server_installed || die "PostgreSQL server binaries still missing after install"
}

start_postgres() {
	pg_ready && return 0
	local conf ver cluster started=0
	# A server installed without a cluster (create_main_cluster = false) has nothing to start.
	if ! compgen -G '/etc/postgresql/*/*/postgresql.conf' >/dev/null; then
		ver=$(printf '%s\n' /usr/lib/postgresql/*/bin/postgres | cut -d/ -f5 | sort -V | tail -n1)
		say "creating PostgreSQL $ver cluster main"
		as_root pg_createcluster "$ver" main >/dev/null
	fi
	for conf in /etc/postgresql/*/*/postgresql.conf; do
		cluster=$(basename "$(dirname "$conf")")
		ver=$(basename "$(dirname "$(dirname "$conf")")")
		# pg_ctlcluster exits non-zero when the cluster already runs (e.g. on another port).
		if pg_lsclusters -h "$ver" "$cluster" 2>/dev/null | grep -q ' online'; then
			continue
		fi
		say "starting PostgreSQL $ver/$cluster"
		if as_root pg_ctlcluster --skip-systemctl-redirect "$ver" "$cluster" start; then
			started=1
		fi
	done
	if ((!started)) && ! pg_ready; then
		say "starting PostgreSQL with service postgresql start"
		as_root service postgresql start >/dev/null || true
	fi
}

start_redis() {
	redis_ready && return 0
	say "starting Redis on $redis_host:$redis_port (AOF in $redis_dir)"
	# Run as the redis user when the package created it, so the data files belong to it.
	local user=root
	id redis >/dev/null 2>&1 && user=redis
	as_root mkdir -p "$redis_dir" "$(dirname "$redis_log")"
	as_root chown "$user" "$redis_dir"
	as_root touch "$redis_log"
	as_root chown "$user" "$redis_log"
	as_user "$user" redis-server --daemonize yes --bind "$redis_host" -::1 --port "$redis_port" \
		--appendonly yes --appendfsync everysec --dir "$redis_dir" --logfile "$redis_log" \
		--pidfile "$redis_dir/redis-server.pid" >/dev/null
}

# enable_aof_on_fresh_redis turns AOF on in a Redis the package installer has
# just started with Debian's default (appendonly no); local mode keeps queued
# tasks across Redis restarts. An existing Redis is never reconfigured.
enable_aof_on_fresh_redis() {
	[[ " ${installed_now[*]-} " == *" redis-server "* ]] || return 0
	[[ $(redis-cli -h "$redis_host" -p "$redis_port" config get appendonly 2>/dev/null | tail -n1) == no ]] || return 0
	say "enabling AOF on the newly installed Redis"
	redis-cli -h "$redis_host" -p "$redis_port" config set appendonly yes >/dev/null
}

wait_for_services() {
	local i
	for ((i = 0; i < wait_seconds; i++)); do
		pg_ready && redis_ready && return 0
		sleep 1
	done
	pg_ready || die "PostgreSQL does not answer on $pg_host:$pg_port after ${wait_seconds}s; see /var/log/postgresql/"
	redis_ready || die "Redis does not answer on $redis_host:$redis_port after ${wait_seconds}s; see $redis_log"
}

# psql_admin runs psql as a superuser. Root may have no role of its own, so
# connect as the postgres OS user over the socket (peer auth, the Debian
# default), or as postgres over TCP when trust auth allows it (no prompt: -w).
psql_admin_mode=
psql_admin() {
	local args=(-X -q -A -t -v ON_ERROR_STOP=1 -d postgres)
	case $psql_admin_mode in
	peer) as_user postgres psql "${args[@]}" "$@" ;;
	tcp) psql -h "$pg_host" -p "$pg_port" -U postgres -w "${args[@]}" "$@" ;;
	esac
}
pick_psql_admin() {
	local mode modes=(tcp peer)
	[[ $EUID -eq 0 ]] && modes=(peer tcp)
	for mode in "${modes[@]}"; do
		psql_admin_mode=$mode
		psql_admin -c 'select 1' >/dev/null 2>&1 && return 0
	done
	die "cannot connect to PostgreSQL as superuser postgres (tried the postgres OS user and TCP trust); create role $app_role (LOGIN CREATEDB, password $app_password) and database $app_db yourself"
}

app_can_connect() {
	PGPASSWORD=$app_password psql -X -q -w -h "$pg_host" -p "$pg_port" -U "$app_role" -d "$app_db" \
		-c 'select 1' >/dev/null 2>&1
}

ensure_role_and_db() {
	local attrs
	# The common case, one connection: the role logs in to its database and may create test databases.
	if [[ $(PGPASSWORD=$app_password psql -X -A -t -w -h "$pg_host" -p "$pg_port" -U "$app_role" -d "$app_db" \
		-c 'select rolcreatedb from pg_roles where rolname = current_user' 2>/dev/null) == t ]]; then
		return 0
	fi
	pick_psql_admin
	attrs=$(psql_admin -c "select rolcanlogin::text || rolcreatedb::text from pg_roles where rolname = '$app_role'")
	case $attrs in
	'')
		say "creating PostgreSQL role $app_role"
		psql_admin -c "create role $app_role login createdb password '$app_password'"
		;;
	truetrue) ;;
	*)
		say "granting LOGIN CREATEDB to PostgreSQL role $app_role"
		psql_admin -c "alter role $app_role login createdb"
		;;
	esac
	if [[ -z $(psql_admin -c "select 1 from pg_database where datname = '$app_db'") ]]; then
		say "creating PostgreSQL database $app_db"
		psql_admin -c "create database $app_db owner $app_role"
	fi
	if ! app_can_connect; then
		say "resetting the password of PostgreSQL role $app_role"
		psql_admin -c "alter role $app_role password '$app_password'"
		app_can_connect || die "role $app_role cannot log in over TCP at $pg_host:$pg_port; check pg_hba.conf allows password (scram-sha-256/md5) or trust for 127.0.0.1"
	fi
}

ensure_installed
start_postgres
start_redis
wait_for_services
enable_aof_on_fresh_redis
ensure_role_and_db
say "services ready (postgres $pg_host:$pg_port, redis $redis_host:$redis_port)"
