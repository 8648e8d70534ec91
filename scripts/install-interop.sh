#!/usr/bin/env bash
# Installs the independent implementations the interop tests run against
# (each tests/interop/<name>/package.json pins its npm package by exact version).
# Without node/npm the interop tests skip with a reason; with them, CI runs them.
set -uo pipefail
command -v npm >/dev/null 2>&1 || { echo "npm not found: interop tests will skip"; exit 0; }
for pkg in tests/interop/*/package.json; do
  dir=$(dirname "$pkg")
  [ -d "$dir/node_modules" ] && [ "$dir/node_modules" -nt "$pkg" ] && continue
  echo "npm install in $dir"
  npm install --silent --no-audit --no-fund --prefix "$dir" >/dev/null 2>&1 || echo "npm install failed in $dir: its interop tests will skip" >&2
  touch "$dir/node_modules" 2>/dev/null || true
done
# ohttpy, the one chunked OHTTP implementation that installs from PyPI here, in a venv of its
# own (tests/interop/test_ohttpy.py skips without it).
if [ ! -x .venv-ohttpy/bin/python ] || [ tests/interop/ohttpy/requirements.txt -nt .venv-ohttpy ]; then
  echo "pip install ohttpy into .venv-ohttpy"
  { "${PYTHON:-python3}" -m venv .venv-ohttpy \
    && .venv-ohttpy/bin/python -m pip install -q --disable-pip-version-check -r tests/interop/ohttpy/requirements.txt \
    && touch .venv-ohttpy; } >/dev/null 2>&1 || echo "pip install ohttpy failed: its interop test will skip" >&2
fi
