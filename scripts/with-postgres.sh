#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster: socket only, in a temp folder, stopped and
# deleted when the command ends, whatever its outcome. The command sees MDP_TEST_PG, a libpq
# connection string (host=DIR port=PORT dbname=mdp_test user=postgres).
set -euo pipefail
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
dir=$(mktemp -d /tmp/mdp-pg.XXXXXX)
chmod 755 "$dir"
port=$((20000 + RANDOM % 20000))
as_pg=()
if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; as_pg=(runuser -u postgres --); fi

stop() {
  (cd / && "${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1) || true
  rm -rf "$dir"
}
trap stop EXIT INT TERM

(cd / && "${as_pg[@]}" "$pgbin/initdb" -D "$dir/data" -A trust -E UTF8 --locale=C.UTF-8 --no-sync -U postgres >"$dir/initdb.log" 2>&1) \
  || { cat "$dir/initdb.log"; exit 1; }
(cd / && "${as_pg[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start \
  -o "-c listen_addresses='' -c unix_socket_directories=$dir -p $port -c fsync=off -c max_connections=200" >/dev/null) \
  || { cat "$dir/server.log"; exit 1; }
(cd / && "${as_pg[@]}" "$pgbin/createdb" -h "$dir" -p "$port" -U postgres mdp_test)

export MDP_TEST_PG="host=$dir port=$port dbname=mdp_test user=postgres"
echo "with-postgres: throwaway cluster at $dir:$port"
"$@"
