#!/usr/bin/env bash
# The chatter veto's study (docs/status.md): for each corpus batch whose first run names a
# commit in tests/corpus/README.md ("matcher at <hash>"), rebuilds kotae at that commit in a
# scratch worktree and saves what those rules answered on the batch's dev share
# (OUT/bN.json); then examples/veto_study.rs trains the model on the earlier batches only
# and counts, per threshold, the reports it would silence and the false replies it would
# remove. About 10 minutes on 2 cores (one incremental release build per commit).
# OUT (default /tmp/kotae-veto-study), FIRST (first batch, default 14).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-/tmp/kotae-veto-study}
first=${FIRST:-14}
mkdir -p "$out"
wt="$out/worktree"
[ -d "$wt" ] || git -C "$root" worktree add -f --detach "$wt" HEAD >/dev/null
export CARGO_TARGET_DIR="$out/target"
# "batchN-*.toml … (matcher at abc1234" in the corpus README, one pair per batch.
python3 - "$root/tests/corpus/README.md" "$first" > "$out/pairs" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
for m in re.finditer(r'matcher at ([0-9a-f]{7})', text):
    start = text.rfind('\n- `batch', 0, m.start())
    b = re.match(r'\n- `batch(\d+)-', text[start:])
    if b and int(b.group(1)) >= int(sys.argv[2]):
        print(b.group(1), m.group(1))
PY
while read -r b commit; do
  git -C "$wt" checkout -q --detach "$commit"
  (cd "$wt" && cargo build --release --bin kotae -q)
  "$CARGO_TARGET_DIR/release/kotae" eval --json \
    --cases "$root/tests/corpus/dev/batch$b-positives.toml" "$root/tests/corpus/dev/batch$b-negatives.toml" \
    > "$out/b$b.json" || true   # under the thresholds it exits 1; the figures are written
  echo "batch $b: first run at $commit"
done < "$out/pairs"
git -C "$root" worktree remove --force "$wt"
unset CARGO_TARGET_DIR
cd "$root" && cargo run --release -q --example veto_study -- "$out" tests/corpus/dev
