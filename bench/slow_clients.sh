#!/usr/bin/env bash
# Slow clients against the Slack Events receiver (issue 14): resident memory idle, at peak
# with CLIENTS (default 250) connections each holding a BODY_KIB (default 400) KiB body one
# byte short, after the receiver's body timeout, and after the clients left; and the
# answers they got (408 after the body timeout, 503 beyond MAX_CONNECTIONS, default 256).
# Driver: bench/slow_clients.py. PROFILE=debug uses the debug build (quicker to build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
profile=${PROFILE:-release}
if [ "$profile" = release ]; then
  (cd "$root" && cargo build --release --quiet --bin kotae)
else
  (cd "$root" && cargo build --quiet --bin kotae)
fi
dir="${CARGO_TARGET_DIR:-$root/target}/$profile"
date -u +"%F %T UTC"
python3 "$root/bench/slow_clients.py" "$dir/kotae"
