#!/usr/bin/env python3
"""Validate the corpus and print counts. Usage: python3 tests/corpus/check.py

Checks: every dev/ and holdout/ file parses with tomllib; each case has text,
mode, expect, kind, why; mode is auto or lookup; expect is one of the entry
ids or "silent"; "silent" only with mode auto; amount_jpy is a positive int;
card is a known card id; no text appears twice anywhere in the corpus; every
case sits on the side of the split its hash says. Exit status 1 on any error.
"""
import collections
import hashlib
import pathlib
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent
# The ids a case may name come from the pack itself, so this list cannot drift from it:
# entry ids for `expect`, issuer ids (knowledge/issuers.toml) for `card`.
PACK = [
    tomllib.loads(f.read_text(encoding="utf-8"))
    for f in sorted((ROOT.parent.parent / "knowledge").glob("*.toml"))
]
ENTRIES = {e["id"] for doc in PACK for e in doc.get("entry", [])}
CARDS = {i["id"] for doc in PACK for i in doc.get("issuer", [])}
KEYS = {"text", "mode", "expect", "kind", "why", "amount_jpy", "card"}


def main() -> int:
    errors = []
    seen = {}
    split_counts = {}
    for split in ("dev", "holdout"):
        by_file = collections.Counter()
        by_label = collections.Counter()
        by_kind = collections.Counter()
        for path in sorted((ROOT / split).glob("*.toml")):
            where = f"{split}/{path.name}"
            try:
                cases = tomllib.loads(path.read_text(encoding="utf-8")).get("case", [])
            except tomllib.TOMLDecodeError as e:
                errors.append(f"{where}: does not parse: {e}")
                continue
            for i, c in enumerate(cases):
                at = f"{where}#{i}"
                missing = {"text", "mode", "expect", "kind", "why"} - c.keys()
                if missing:
                    errors.append(f"{at}: missing {sorted(missing)}")
                    continue
                if c.keys() - KEYS:
                    errors.append(f"{at}: unknown keys {sorted(c.keys() - KEYS)}")
                if c["mode"] not in ("auto", "lookup"):
                    errors.append(f"{at}: bad mode {c['mode']!r}")
                if c["expect"] not in ENTRIES | {"silent"}:
                    errors.append(f"{at}: bad expect {c['expect']!r}")
                if c["expect"] == "silent" and c["mode"] != "auto":
                    errors.append(f"{at}: silent used with mode {c['mode']}")
                if "\n" in c["why"]:
                    errors.append(f"{at}: why is not one line")
                a = c.get("amount_jpy")
                if a is not None and (not isinstance(a, int) or isinstance(a, bool) or a <= 0):
                    errors.append(f"{at}: bad amount_jpy {a!r}")
                if "card" in c and c["card"] not in CARDS:
                    errors.append(f"{at}: unknown card {c['card']!r}")
                if c["text"] in seen:
                    errors.append(f"{at}: duplicate text (also {seen[c['text']]})")
                seen[c["text"]] = at
                hold = int(hashlib.sha256(c["text"].encode("utf-8")).hexdigest(), 16) % 5 == 0
                # negatives-lead.toml: probes the lead wrote and tuned on while changing the
                # matcher; they stay in dev whatever their hash says (a holdout must be unseen).
                if hold != (split == "holdout") and not path.name.startswith(("negatives-lead", "probes-lead")):
                    errors.append(f"{at}: on the wrong side of the split")
                by_file[path.name] += 1
                by_label[(c["mode"], c["expect"])] += 1
                by_kind[(c["expect"] == "silent", c["mode"], c["kind"])] += 1
        split_counts[split] = sum(by_file.values())
        print(f"== {split}: {split_counts[split]} cases")
        print("-- per file")
        for k, v in sorted(by_file.items()):
            print(f"   {v:4}  {k}")
        print("-- per mode/expect")
        for (m, e), v in sorted(by_label.items()):
            print(f"   {v:4}  {m:6}  {e}")
        print("-- per kind (positives, then negatives)")
        for (neg, m, k), v in sorted(by_kind.items()):
            print(f"   {v:4}  {'silent' if neg else 'entry':6}  {m:6}  {k}")
    print(f"== total {sum(split_counts.values())} (dev {split_counts.get('dev', 0)}, holdout {split_counts.get('holdout', 0)})")
    for e in errors:
        print("ERROR", e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
