#!/usr/bin/env bash
# Idempotent setup: .venv with everything from PyPI, a llama-cpp-python engine built for this CPU and
# proven by a smoke test, and the default GGUF model pulled into the data directory.
#
# The engine: synth/engine_build.py picks CMake flags for this CPU (never AMX: llama.cpp#20824); the
# wheel is cached in a folder named after its flags and the CPU's features; `airlock doctor --smoke-only`
# then loads the model, decodes, chats and emits schema-constrained JSON in a child process. If that
# fails, setup rebuilds with the portable flag set and tests again; if that fails too and the site names
# its own compilers (CC/CXX), the portable set is built once more with the system's /usr/bin/gcc and
# /usr/bin/g++ (seen: a site's CXX wrapper made engines that crashed loading the tokenizer);
# then it stops.
#   AIRLOCK_ENGINE=auto|tuned|portable   which build to use (default auto: tuned, portable on failure)
#   CMAKE_ARGS="-DGGML_CUDA=on"          extra flags (GPU); the smoke test then runs on the GPU
#   AIRLOCK_ENGINE_FAIL_TUNED=1          treat the tuned build as failed (CI exercises the fallback)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
ENGINE=${AIRLOCK_ENGINE:-auto}
USER_CMAKE_ARGS=${CMAKE_ARGS:-}
export LLAMA_VERSION=0.3.36
RECORD=.venv/airlock-engine.json
STAMP=.venv/.airlock-setup

case "$ENGINE" in auto|tuned|portable) ;; *) echo "setup: AIRLOCK_ENGINE must be auto, tuned or portable" >&2; exit 2;; esac
want=$({ cat pyproject.toml constraints.txt scripts/setup.sh scripts/engine-wheel.sh synth/engine_build.py; echo "$ENGINE|$USER_CMAKE_ARGS|${AIRLOCK_ENGINE_FAIL_TUNED:-}|${CC:-}|${CXX:-}"; } | sha256sum | cut -c1-16)
cpu=$("$PYTHON" synth/engine_build.py digest)

engine_ok() {  # the recorded engine was built for this CPU and passed its smoke test here
  [ -f "$RECORD" ] && "$PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1]))
sys.exit(0 if r.get("cpu_digest")==sys.argv[2] and r.get("smoke",{}).get("passed") else 1)' "$RECORD" "$cpu"
}

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && [ -x .venv/bin/airlock ] && engine_ok; then
  .venv/bin/airlock models pull --quiet
  exit 0
fi

wheel_dir() { CMAKE_ARGS="$USER_CMAKE_ARGS" scripts/engine-wheel.sh "$1"; }

use_engine() {  # installs flavor $1 into .venv and smoke-tests it; the result lands in $RECORD
  local flavor=$1 dir
  dir=$(wheel_dir "$flavor")
  .venv/bin/python -m pip install --quiet --force-reinstall --no-deps "$dir"/llama_cpp_python-*.whl
  # Described afresh, not copied from the cache: where this CPU's tuned flags are the portable set
  # (no AVX-512 or VNNI), both flavours share one wheel folder, whose build.json names the first.
  "$PYTHON" synth/engine_build.py describe "$flavor" > "$RECORD"
  if [ "$flavor" = tuned ] && [ -n "${AIRLOCK_ENGINE_FAIL_TUNED:-}" ]; then
    echo "setup: treating the tuned engine as failed (AIRLOCK_ENGINE_FAIL_TUNED is set)" >&2
    return 1
  fi
  .venv/bin/airlock doctor --smoke-only --record
}

system_compilers_engine() {  # the portable build again, by /usr/bin's compilers, when the site named others
  [ -n "${CC:-}${CXX:-}" ] && [ -x /usr/bin/gcc ] && [ -x /usr/bin/g++ ] || return 1
  [ "${CC:-}" != /usr/bin/gcc ] || [ "${CXX:-}" != /usr/bin/g++ ] || return 1
  echo "setup: the portable engine built by CC=${CC:-} CXX=${CXX:-} failed its smoke test; building it with /usr/bin/gcc and /usr/bin/g++…" >&2
  CC=/usr/bin/gcc CXX=/usr/bin/g++ use_engine portable
}

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip wheel
first=tuned; [ "$ENGINE" = portable ] && first=portable
dir=$(wheel_dir "$first")
echo "setup: installing Airlock and its dependencies into .venv…"
.venv/bin/python -m pip install --quiet --find-links "$dir" -c constraints.txt -e ".[dev]"
.venv/bin/airlock models pull --quiet
# Airlock's NER component (privacy/ner/): checked against its SHA-256 sums, retrained (seeded, ~3 min) only if absent
.venv/bin/python -m privacy.ner.train --if-missing

if ! use_engine "$first"; then
  if [ "$ENGINE" != auto ]; then
    echo "setup: the $first llama.cpp engine failed its smoke test on this CPU; run .venv/bin/airlock doctor" >&2
    exit 1
  fi
  echo "setup: the tuned engine failed its smoke test; switching to the portable build (built once if not cached)…" >&2
  if ! use_engine portable && ! system_compilers_engine; then
    echo "setup: the llama.cpp engine fails its smoke test here even in the portable build; run .venv/bin/airlock doctor and attach its output to a ticket" >&2
    exit 1
  fi
fi
echo "$want" > "$STAMP"
echo "setup: done ($("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["flavor"])' "$RECORD") engine)"
