#!/usr/bin/env bash
# Instructions per message (callgrind), insensitive to the machine's load: for each pack size
# and message size, the mix of 5 messages is matched R and R+20 times in two runs; the
# difference in instructions, divided by 100 messages, is the cost of one message (auto mode,
# normalization included, pack building excluded).
# ENTRIES (default "10 100 1000 10000 50000") and BYTES (default "100 1024 10240 65536").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
entries=${ENTRIES:-10 100 1000 10000 50000}
bytes=${BYTES:-100 1024 10240 65536}
command -v valgrind >/dev/null || { echo "valgrind is required" >&2; exit 2; }
(cd "$root" && cargo build --release --quiet --example peer_export)
exe="${CARGO_TARGET_DIR:-$root/target}/release/examples/peer_export"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ir() { # entries bytes rounds -> total instructions
  valgrind --tool=callgrind --callgrind-out-file="$tmp/out" "$exe" repeat \
    --entries "$1" --bytes "$2" --rounds "$3" 2>"$tmp/err" >/dev/null
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$tmp/err"
}

echo "| entries | size | instructions per message |"
echo "|--------:|-----:|-------------------------:|"
for n in $entries; do
  for b in $bytes; do
    base=$(ir "$n" "$b" 1)
    more=$(ir "$n" "$b" 21)
    echo "| $n | $b B | $(( (more - base) / 100 )) |"
  done
done
