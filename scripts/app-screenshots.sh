#!/usr/bin/env bash
# Regenerates the screenshots in docs/app/ (docs/app.md): runs the browser tests, which start
# a real `privproc up` and `privproc app` and drive headless Chromium, saving each main view.
# Needs chromium and chromedriver (`make services`).
set -euo pipefail
cd "$(dirname "$0")/.."
out="$PWD/docs/app"
mkdir -p "$out"
PRIVPROC_SCREENSHOTS="$out" PYTHONPATH="$PWD/src:$PWD" .venv/bin/python -m pytest -q -p no:randomly \
  tests/browser/test_app_browser.py
ls -l "$out"
