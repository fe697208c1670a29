#!/usr/bin/env bash
# The Slack Events receiver with one and with two `kotae serve` replicas on one PostgreSQL
# (issue 16): starts the throwaway cluster of the tests (.ci/postgres.sh: 127.0.0.1 only,
# fsync=off, stopped on exit), then runs bench/slack_load.sh with REPLICAS=1 and REPLICAS=2,
# each on a fresh database, events sent to the replicas in turn as a load balancer would.
# RATES (default 1000,2000,3000,4000), STEP_SECS (default 5).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=../.ci/postgres.sh
source .ci/postgres.sh
trap pg_stop EXIT
pg_start
base=${KOTAE_TEST_POSTGRES%/*}
for replicas in 1 2; do
  db="kotae_bench_r${replicas}_$$"
  psql -q "$KOTAE_TEST_POSTGRES" -c "CREATE DATABASE $db"
  echo "== $replicas replica(s) on $base/$db"
  KOTAE_DATABASE="$base/$db" REPLICAS=$replicas RATES=${RATES:-1000,2000,3000,4000} \
    STEP_SECS=${STEP_SECS:-5} bench/slack_load.sh
done
