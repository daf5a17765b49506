#!/usr/bin/env bash
# Idempotent setup: .venv with everything from PyPI, the llama-cpp-python wheel built once and
# cached outside the tree, and the default GGUF model pulled into the data directory.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
WHEELS=${AIRLOCK_WHEEL_CACHE:-$HOME/.cache/airlock/wheels}
LLAMA_VERSION=0.3.36
STAMP=.venv/.airlock-setup

want=$(cat pyproject.toml constraints.txt scripts/setup.sh | sha256sum | cut -c1-16)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -x .venv/bin/airlock ]; then
  .venv/bin/airlock models pull --quiet
  exit 0
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip wheel

mkdir -p "$WHEELS"
if ! ls "$WHEELS"/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1; then
  echo "setup: building llama-cpp-python $LLAMA_VERSION from source (once, ~7 min on 2 cores)…"
  # CMAKE_ARGS from the environment selects CUDA (-DGGML_CUDA=on) or portable (-DGGML_NATIVE=OFF).
  CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF}" \
    .venv/bin/python -m pip wheel --no-cache-dir --no-deps "llama-cpp-python==$LLAMA_VERSION" -w "$WHEELS"
fi

echo "setup: installing Airlock and its dependencies into .venv…"
.venv/bin/python -m pip install --quiet --find-links "$WHEELS" -c constraints.txt -e ".[dev]"
.venv/bin/airlock models pull --quiet
echo "$want" > "$STAMP"
echo "setup: done"
