#!/usr/bin/env python3
"""One-time split of the labeled corpus into dev/ and holdout/.

This script documents how tests/corpus/holdout/ was made. It was run once:

    python3 tests/corpus/split.py

What it does:
  * reads every tests/corpus/all/*.toml (the corpus as first written, one
    [[case]] table per case);
  * puts a case into holdout/<same file name> when
        int(sha256(text as UTF-8).hexdigest(), 16) % 5 == 0
    and into dev/<same file name> otherwise. The hash depends only on the
    case's text, so the split is deterministic and does not depend on file
    order, on the label or on which file the case is in;
  * copies each case's TOML block byte for byte (no re-serialisation), and
    the file's leading comment to both outputs;
  * checks that every output file parses and that no case was lost, then
    deletes all/.

It refuses to run if holdout/ (or dev/) already exists: the holdout is made
once and never re-drawn. Never tune the matcher by looking at holdout
failures; never loosen a case to make it pass.
"""
import hashlib
import pathlib
import re
import shutil
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent
ALL = ROOT / "all"
DEV = ROOT / "dev"
HOLDOUT = ROOT / "holdout"

CASE_LINE = re.compile(r"(?m)^(?=\[\[case\]\][ \t]*$)")


def in_holdout(text: str) -> bool:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16) % 5 == 0


def main() -> int:
    if HOLDOUT.exists():
        print(f"refusing to run: {HOLDOUT} already exists; the holdout is drawn once", file=sys.stderr)
        return 1
    if DEV.exists():
        print(f"refusing to run: {DEV} already exists", file=sys.stderr)
        return 1
    files = sorted(ALL.glob("*.toml")) if ALL.is_dir() else []
    if not files:
        print(f"nothing to split: no {ALL}/*.toml", file=sys.stderr)
        return 1

    plan = {}
    total = 0
    for path in files:
        src = path.read_text(encoding="utf-8")
        parsed = tomllib.loads(src).get("case", [])
        header, *blocks = CASE_LINE.split(src)
        if len(blocks) != len(parsed):
            print(f"{path.name}: found {len(blocks)} [[case]] lines but {len(parsed)} cases", file=sys.stderr)
            return 1
        dev, hold = [], []
        for block, case in zip(blocks, parsed):
            if not block.endswith("\n"):
                block += "\n"
            (one,) = tomllib.loads(block)["case"]
            if one != case:
                print(f"{path.name}: block does not round-trip: {case['text']!r}", file=sys.stderr)
                return 1
            (hold if in_holdout(case["text"]) else dev).append(block)
        plan[path.name] = (header, dev, hold)
        total += len(parsed)

    DEV.mkdir()
    HOLDOUT.mkdir()
    written = 0
    for name, (header, dev, hold) in plan.items():
        for outdir, blocks in ((DEV, dev), (HOLDOUT, hold)):
            out = outdir / name
            out.write_text(header + "".join(blocks), encoding="utf-8")
            written += len(tomllib.loads(out.read_text(encoding="utf-8")).get("case", []))
        print(f"{name}: dev {len(dev)}, holdout {len(hold)}")
    if written != total:
        print(f"case count mismatch: read {total}, wrote {written}; all/ kept", file=sys.stderr)
        return 1
    shutil.rmtree(ALL)
    print(f"split {total} cases; removed {ALL}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
