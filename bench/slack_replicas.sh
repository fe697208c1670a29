#!/usr/bin/env bash
# The Slack Events receiver with one and with two `kotae serve` replicas on one PostgreSQL
# (issue 16): starts the throwaway cluster of the tests (.ci/postgres.sh: 127.0.0.1 only,
# fsync=off, stopped on exit), then runs bench/slack_load.sh with REPLICAS=1 and REPLICAS=2,
# each on a fresh database, events sent to the replicas in turn as a load balancer would.
# RATES (default 1000,2000,3000,4000), STEP_SECS (default 5), SSLMODE (default prefer: the
# cluster has ssl=on, so kotae's connections are TLS; disable for plain text). After each
# run it prints the CPU the database's backends used (the postmaster's reaped children:
# kotae's pool connections end with the run), per event sent.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=../.ci/postgres.sh
source .ci/postgres.sh
trap pg_stop EXIT
pg_start
base=${KOTAE_TEST_POSTGRES%/*}
# CPU seconds of the postmaster's reaped children (cutime + cstime).
pg_children_cpu() {
  local pid
  pid=$(head -1 "$PG_DIR/data/postmaster.pid")
  awk -v hz="$(getconf CLK_TCK)" '{print ($16 + $17) / hz}' "/proc/$pid/stat"
}
rates=${RATES:-1000,2000,3000,4000}
step=${STEP_SECS:-5}
events=$(echo "$rates" | tr ',' '\n' | awk -v s="$step" '{n += $1 * s} END {print n}')
for replicas in 1 2; do
  db="kotae_bench_r${replicas}_$$"
  psql -q "$KOTAE_TEST_POSTGRES" -c "CREATE DATABASE $db"
  echo "== $replicas replica(s) on $base/$db"
  before=$(pg_children_cpu)
  KOTAE_DATABASE="$base/$db?sslmode=${SSLMODE:-prefer}" REPLICAS=$replicas RATES=$rates \
    STEP_SECS=$step bench/slack_load.sh
  sleep 1
  after=$(pg_children_cpu)
  awk -v b="$before" -v a="$after" -v n="$events" \
    'BEGIN {printf "PostgreSQL backends: %.1f s of CPU for %d events, %.0f µs per event\n", a - b, n, (a - b) * 1e6 / n}'
done
