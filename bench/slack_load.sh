#!/usr/bin/env bash
# The Slack Events receiver of `kotae serve` under load from a second process: signed
# event_callback requests (unique event ids, a paste the pack answers) at fixed rates over
# keep-alive connections, STEP_SECS seconds per rate. Prints acks per second, ack latency
# p50/p99/max (measured from when each request was due), and event -> chat.postMessage latency
# at the fake Slack Web API run by the driver (examples/slack_load.rs).
# RATES (default 500,1000,2000,3000,5000), STEP_SECS (default 5), ENTRIES (0 = the
# built-in pack, the default), REPLICAS (default 1: more need KOTAE_DATABASE=postgres://…,
# and events go to the replicas in turn, as from a load balancer; bench/slack_replicas.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rates=${RATES:-500,1000,2000,3000,5000}
(cd "$root" && cargo build --release --quiet --features serve --example slack_load --bin kotae)
dir="${CARGO_TARGET_DIR:-$root/target}/release"
date -u +"%F %T UTC"
"$dir/examples/slack_load" run --kotae "$dir/kotae" --entries "${ENTRIES:-0}" --messages 0 \
  --rates "$rates" --step-secs "${STEP_SECS:-5}" --replicas "${REPLICAS:-1}"
