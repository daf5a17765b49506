#!/usr/bin/env bash
# Prints the cache folder holding the llama-cpp-python wheel for build flavour $1 (tuned|portable) on
# this CPU, building the wheel first if it is not there. Used by setup.sh and bench/synth.py.
set -euo pipefail
cd "$(dirname "$0")/.."
flavor=${1:?usage: scripts/engine-wheel.sh tuned|portable}
PYTHON=${PYTHON:-python3.11}
WHEELS=${AIRLOCK_WHEEL_CACHE:-$HOME/.cache/airlock/wheels}
export LLAMA_VERSION=${LLAMA_VERSION:-0.3.36}
BUILDER=${BUILDER_PYTHON:-.venv/bin/python}

flags=$("$PYTHON" synth/engine_build.py flags "$flavor")
dir=$("$PYTHON" synth/engine_build.py cache-dir "$flavor" "$WHEELS")
if ! ls "$dir"/llama_cpp_python-"$LLAMA_VERSION"-*.whl >/dev/null 2>&1; then
  echo "setup: building llama-cpp-python $LLAMA_VERSION ($flavor build for this CPU; once, ~7 min on 2 cores)…" >&2
  rm -rf "$dir.partial" && mkdir -p "$dir.partial"
  CMAKE_ARGS="$flags" CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
    "$BUILDER" -m pip wheel --quiet --no-cache-dir --no-deps "llama-cpp-python==$LLAMA_VERSION" -w "$dir.partial" >&2
  "$PYTHON" synth/engine_build.py describe "$flavor" > "$dir.partial/build.json"
  rm -rf "$dir" && mv "$dir.partial" "$dir"
fi
echo "$dir"
