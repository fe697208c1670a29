#!/usr/bin/env bash
# `kotae serve` as a process (issue 6, "the running bot"): time to start, resident memory
# (VmRSS / VmHWM from /proc/PID/status) idle and after MESSAGES Slack events (each answered,
# through a fake Slack Web API in the driving process), with the built-in pack and with a
# generated pack of ENTRIES entries; for the generated pack, the hot-reload time (file edit
# seen by the watcher, then SIGHUP, alternately, RELOADS times) until an event naming a new
# entry gets its answer, and the resident memory after each reload.
# ENTRIES (default 10000), MESSAGES (default 10000), RELOADS (default 2).
# Driver: examples/slack_load.rs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
entries=${ENTRIES:-10000}
messages=${MESSAGES:-10000}
reloads=${RELOADS:-2}
(cd "$root" && cargo build --release --quiet --features serve --example slack_load --bin kotae)
dir="${CARGO_TARGET_DIR:-$root/target}/release"
date -u +"%F %T UTC"
"$dir/examples/slack_load" run --kotae "$dir/kotae" --entries 0 --messages "$messages"
echo
"$dir/examples/slack_load" run --kotae "$dir/kotae" --entries "$entries" --messages "$messages" --reloads "$reloads"
