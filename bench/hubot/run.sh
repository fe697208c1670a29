#!/usr/bin/env bash
# kotae vs Hubot, same patterns, same messages, same run (see bench/README.md).
# Installs the npm package `hubot` into a temporary directory that is removed afterwards.
# ENTRIES (default 1000) and BYTES (default 100,1024,10240) choose the pack and message sizes.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
entries=${ENTRIES:-1000}
bytes=${BYTES:-100,1024,10240}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

command -v node >/dev/null || { echo "node is required" >&2; exit 2; }
echo "== installing hubot@${HUBOT_VERSION:-14.1.0} into $tmp" >&2
(cd "$tmp" && npm init -y >/dev/null && npm install --no-audit --no-fund --loglevel=error "hubot@${HUBOT_VERSION:-14.1.0}" >/dev/null)

echo "== exporting a ${entries}-entry pack and timing kotae" >&2
(cd "$root" && cargo run --release --quiet --example peer_export -- \
  export --entries "$entries" --bytes "$bytes" --out "$tmp/pack.json")

echo "== timing Hubot ($(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
cp "$root/bench/hubot/bench.mjs" "$tmp/"
(cd "$tmp" && HUBOT_LOG_LEVEL=error node bench.mjs pack.json)
