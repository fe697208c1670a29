#!/usr/bin/env bash
# Discord MESSAGE_CREATE through `kotae serve` under load from a second process: the fake
# Discord of the tests (gateway + REST on 127.0.0.1) dispatches pastes the shipped pack
# answers at fixed rates, STEP_SECS seconds per rate, and times each reply POST. Prints, per
# rate: events dispatched, replies, reactions, event -> reply p50/p99/max, kotae's CPU per
# event and RSS, the driver's own CPU per event (examples/discord_load.rs).
# RATES (default 200,500,1000,2000), STEP_SECS (default 5), CHANNELS (support channels the
# events are spread over, default 1).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rates=${RATES:-200,500,1000,2000}
(cd "$root" && cargo build --release --quiet --features serve --example discord_load --bin kotae)
dir="${CARGO_TARGET_DIR:-$root/target}/release"
date -u +"%F %T UTC"
"$dir/examples/discord_load" --kotae "$dir/kotae" --rates "$rates" \
  --step-secs "${STEP_SECS:-5}" --channels "${CHANNELS:-1}"
