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
