"""Which llama.cpp build this CPU gets: features seen, CMake flags chosen, where the wheel is cached.

Standard library only: `scripts/setup.sh` runs this file as a script before the virtualenv exists.

Two flavours, both with every instruction-set switch written out (never `-march=native`):
- `tuned`: the CPU's own extensions (AVX2, AVX-512 and its VNNI/VBMI/BF16 parts, AVX-VNNI), minus
  the paths known to crash (`KNOWN_BAD`);
- `portable`: the plain AVX2 set when the CPU has it, else baseline x86-64 — what setup falls back
  to when the tuned build fails its smoke test.

A wheel is cached in a folder named after the llama-cpp-python version, a digest of the flags and a
digest of the CPU's features, so a cache (or a virtualenv) copied to another kind of CPU is never
reused there. Usage: `python synth/engine_build.py flags|cache-dir|digest|describe [tuned|portable]`.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
from pathlib import Path

# Never built, whatever the CPU offers. AMX: the matrix-multiply path segfaults in decode on Sapphire
# Rapids-class Xeons for any prompt longer than one token (ggml-org/llama.cpp#20824).
KNOWN_BAD = {"GGML_AMX_TILE": "llama.cpp#20824", "GGML_AMX_INT8": "llama.cpp#20824",
             "GGML_AMX_BF16": "llama.cpp#20824"}

# ggml switch → the /proc/cpuinfo flags that must all be present for it.
_X86_TUNED = {
    "GGML_SSE42": ("sse4_2",),
    "GGML_AVX": ("avx",),
    "GGML_AVX2": ("avx2",),
    "GGML_FMA": ("fma",),
    "GGML_F16C": ("f16c",),
    "GGML_BMI2": ("bmi2",),
    "GGML_AVX_VNNI": ("avx_vnni",),
    "GGML_AVX512": ("avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"),
    "GGML_AVX512_VBMI": ("avx512f", "avx512vbmi"),
    "GGML_AVX512_VNNI": ("avx512f", "avx512_vnni"),
    "GGML_AVX512_BF16": ("avx512f", "avx512_bf16"),
}
_X86_PORTABLE = ("GGML_SSE42", "GGML_AVX", "GGML_AVX2", "GGML_FMA", "GGML_F16C", "GGML_BMI2")
# The features that decide what a build may use; the digest covers these, not clock speed or bugs.
_RELEVANT = ("sse4_2", "avx", "avx2", "fma", "f16c", "bmi2", "avx_vnni", "avx512f", "avx512bw", "avx512dq",
             "avx512vl", "avx512cd", "avx512vbmi", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_int8",
             "amx_bf16", "asimd", "asimddp", "sve", "sve2", "i8mm", "bf16", "sme")


def cpu_info(cpuinfo: str | None = None) -> dict:
    """Architecture, model name and the instruction-set features relevant to llama.cpp."""
    text = cpuinfo if cpuinfo is not None else _read("/proc/cpuinfo")
    flags: set[str] = set()
    model = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key in ("flags", "features") and not flags:
            flags = set(value.split())
        elif key in ("model name", "cpu model") and not model:
            model = value.strip()
    return {"arch": platform.machine().lower(), "model": model or platform.processor() or "unknown",
            "cpus": os.cpu_count() or 1, "features": sorted(flags & set(_RELEVANT))}


def feature_digest(info: dict) -> str:
    """12 hex digits naming the architecture and feature set a build was made for."""
    key = info["arch"] + ":" + ",".join(info["features"])
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def build_flags(info: dict, flavor: str = "tuned") -> list[str]:
    """CMake arguments for llama-cpp-python on this CPU; `flavor` is tuned or portable."""
    if flavor not in ("tuned", "portable"):
        raise ValueError(f"unknown build flavor {flavor!r}")
    common = ["-DLLAVA_BUILD=OFF", "-DGGML_NATIVE=OFF"]
    if info["arch"] not in ("x86_64", "amd64"):
        # ARM64 and others: no AMX to avoid; the compiler's generic target is the portable one.
        return common if flavor == "portable" else ["-DLLAVA_BUILD=OFF", "-DGGML_NATIVE=ON"]
    have = set(info["features"])
    chosen = {name for name, needs in _X86_TUNED.items() if have.issuperset(needs)}
    if flavor == "portable":
        chosen = set(_X86_PORTABLE) if chosen.issuperset(_X86_PORTABLE) else set()
    switches = [f"-D{name}={'ON' if name in chosen else 'OFF'}" for name in _X86_TUNED]
    return common + switches + [f"-D{name}=OFF" for name in KNOWN_BAD]


def required_features(flags: list[str]) -> list[str]:
    """The CPU features a build made with `flags` executes (what a machine running it must have)."""
    on = {f[2:].split("=")[0] for f in flags if f.upper().endswith("=ON")}
    return sorted({feature for name in on for feature in _X86_TUNED.get(name, ())})


def with_user_args(flags: list[str], extra: str) -> list[str]:
    """Append the site's own CMAKE_ARGS (e.g. -DGGML_CUDA=on), refusing switches known to crash."""
    for arg in extra.split():
        name = arg.removeprefix("-D").split("=")[0].split(":")[0]
        if name in KNOWN_BAD and arg.upper().endswith(("=ON", "=1")):
            raise SystemExit(f"setup: {name} is disabled in every build (known crash: {KNOWN_BAD[name]})")
    return flags + extra.split()


def flags_digest(flags: list[str]) -> str:
    return hashlib.sha256(" ".join(flags).encode()).hexdigest()[:12]


def compiler(env: dict | None = None) -> dict:
    """The site's own compilers (CC, CXX) when it names any; {} when the build uses the default ones.
    Seen on an Ubuntu 24.04 image whose CXX wrapper left libstdc++ out of every library's dependencies:
    each CPU build of 0.3.36 it made crashed loading the tokenizer; /usr/bin/g++ built one that ran."""
    env = os.environ if env is None else env
    return {name: env[name] for name in ("CC", "CXX") if env.get(name)}


def cache_dir(root: Path, version: str, flags: list[str], info: dict, compilers: dict | None = None) -> Path:
    """The wheel cache folder for one (version, flags, CPU features) triple — and the compilers, when
    the site names its own."""
    keyed = flags + [f"{name}={path}" for name, path in sorted((compilers or {}).items())]
    return root / f"llama-cpp-python-{version}-{flags_digest(keyed)}-cpu{feature_digest(info)}"


def describe(flavor: str, flags: list[str], info: dict, version: str) -> dict:
    """What setup records next to the wheel and in the virtualenv, for `airlock doctor`."""
    return {"llama_cpp_python": version, "flavor": flavor, "cmake_args": flags, "cpu": info,
            "cpu_digest": feature_digest(info), "requires": required_features(flags),
            "known_bad_disabled": sorted(KNOWN_BAD), "compiler": compiler() or "default"}


def _read(path: str) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


def main(argv: list[str]) -> int:
    command, flavor = argv[0], (argv[1] if len(argv) > 1 else "tuned")
    info = cpu_info()
    flags = with_user_args(build_flags(info, flavor), os.environ.get("CMAKE_ARGS", ""))
    version = os.environ.get("LLAMA_VERSION", "0.3.36")
    if command == "flags":
        print(" ".join(flags))
    elif command == "digest":
        print(feature_digest(info))
    elif command == "cache-dir":
        print(cache_dir(Path(argv[2]), version, flags, info, compiler()))
    elif command == "describe":
        print(json.dumps(describe(flavor, flags, info, version), indent=2))
    else:
        print(f"unknown command {command!r}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
