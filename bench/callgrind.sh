#!/usr/bin/env bash
# Instructions per message (callgrind), insensitive to the machine's load: for each pack size
# and message size, the mix of 5 messages is matched ROUNDS times with instructions counted
# only inside `Pack::query` (auto mode, normalization included, pack building excluded);
# the total divided by the messages matched is the cost of one message.
# ENTRIES (default "10 100 1000 10000"), BYTES (default "100 1024 10240 65536"), ROUNDS (10).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
entries=${ENTRIES:-10 100 1000 10000}
bytes=${BYTES:-100 1024 10240 65536}
rounds=${ROUNDS:-10}
command -v valgrind >/dev/null || { echo "valgrind is required" >&2; exit 2; }
(cd "$root" && cargo build --release --quiet --example peer_export)
exe="${CARGO_TARGET_DIR:-$root/target}/release/examples/peer_export"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "| entries | size | instructions per message |"
echo "|--------:|-----:|-------------------------:|"
for n in $entries; do
  for b in $bytes; do
    valgrind --tool=callgrind --callgrind-out-file="$tmp/out" \
      --toggle-collect='*Pack::query' --toggle-collect='*Pack>::query' \
      "$exe" repeat --entries "$n" --bytes "$b" --rounds "$rounds" 2>"$tmp/err" >/dev/null
    total=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tmp/err")
    echo "| $n | $b B | $(( total / (rounds * 5) )) |"
  done
done
