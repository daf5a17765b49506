"""The engine's build: flags chosen per CPU (never AMX), a cache keyed by CPU, a smoke test that
survives a crashing build, and `airlock doctor` reporting all of it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from synth.engine_build import build_flags, cache_dir, cpu_info, feature_digest, with_user_args
from synth.smoke import run_child, smoke_test

SAPPHIRE_RAPIDS = """processor\t: 0
model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: fpu sse4_2 avx avx2 fma f16c bmi2 avx512f avx512dq avx512cd avx512bw avx512vl avx512vbmi avx512_vnni avx512_bf16 avx_vnni amx_bf16 amx_tile amx_int8
"""
OLD_XEON = "model name\t: Intel(R) Xeon(R) E5-2670\nflags\t\t: fpu sse4_2 avx\n"


def _on(flags: list[str]) -> set[str]:
    return {f[2:].split("=")[0] for f in flags if f.endswith("=ON")}


def test_amx_is_never_built_even_where_the_cpu_has_it():
    info = {**cpu_info(SAPPHIRE_RAPIDS), "arch": "x86_64"}
    assert {"amx_tile", "amx_int8"} <= set(info["features"])
    tuned, portable = build_flags(info, "tuned"), build_flags(info, "portable")
    assert "-DGGML_NATIVE=OFF" in tuned and not any("AMX" in f for f in _on(tuned) | _on(portable))
    assert {"GGML_AVX512", "GGML_AVX512_VNNI", "GGML_AVX512_BF16", "GGML_AVX_VNNI", "GGML_AVX2"} <= _on(tuned)
    assert _on(portable) == {"GGML_SSE42", "GGML_AVX", "GGML_AVX2", "GGML_FMA", "GGML_F16C", "GGML_BMI2"}
    with pytest.raises(SystemExit, match="known crash"):
        with_user_args(tuned, "-DGGML_CUDA=on -DGGML_AMX_INT8=ON")
    assert with_user_args(tuned, "-DGGML_CUDA=on")[-1] == "-DGGML_CUDA=on"


def test_a_cpu_without_avx2_gets_a_baseline_build():
    info = {**cpu_info(OLD_XEON), "arch": "x86_64"}
    assert _on(build_flags(info, "portable")) == set()
    assert _on(build_flags(info, "tuned")) == {"GGML_SSE42", "GGML_AVX"}
    arm = {"arch": "aarch64", "model": "Neoverse", "cpus": 2, "features": ["asimd", "sve"]}
    assert "-DGGML_NATIVE=OFF" in build_flags(arm, "portable") and not _on(build_flags(arm, "portable"))


def test_the_wheel_cache_is_keyed_by_flags_and_cpu_features(tmp_path):
    spr = {**cpu_info(SAPPHIRE_RAPIDS), "arch": "x86_64"}
    old = {**cpu_info(OLD_XEON), "arch": "x86_64"}
    flags = build_flags(spr, "portable")
    assert feature_digest(spr) != feature_digest(old)
    assert cache_dir(tmp_path, "0.3.36", flags, spr) != cache_dir(tmp_path, "0.3.36", flags, old)
    assert cache_dir(tmp_path, "0.3.36", flags, spr) != cache_dir(tmp_path, "0.3.36", build_flags(spr), spr)
    assert feature_digest(spr) in cache_dir(tmp_path, "0.3.36", flags, spr).name


def test_a_site_compiler_gets_its_own_wheel_and_the_default_keeps_the_old_key(tmp_path):
    from synth.engine_build import compiler

    spr = {**cpu_info(SAPPHIRE_RAPIDS), "arch": "x86_64"}
    flags = build_flags(spr, "portable")
    assert compiler({"PATH": "/usr/bin", "CC": ""}) == {}
    site = compiler({"CC": "/opt/gcc/bin/gcc", "CXX": "/opt/gcc/bin/g++"})
    system = {"CC": "/usr/bin/gcc", "CXX": "/usr/bin/g++"}
    assert cache_dir(tmp_path, "0.3.36", flags, spr, {}) == cache_dir(tmp_path, "0.3.36", flags, spr)
    keys = {cache_dir(tmp_path, "0.3.36", flags, spr, c) for c in ({}, site, system)}
    assert len(keys) == 3  # a wheel one compiler built is never reused for another


def test_a_crashing_child_is_a_result_not_a_crash():
    outcome = run_child([sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"], timeout=30)
    assert outcome.signal_name == "SIGSEGV" and outcome.describe() == "crashed with SIGSEGV"
    assert run_child([sys.executable, "-c", "import time; time.sleep(5)"], timeout=0.5).timed_out


def test_the_installed_engine_passes_its_smoke_test(model):
    result = smoke_test(model.path)
    assert result.passed, result.detail
    assert result.steps["decode"]["prompt_tokens"] > 1 and result.steps["decode"]["tokens_per_s"] > 0
    assert result.steps["json"]["ok"] and result.steps["chat"]["ok"] and result.steps["batch"] == {"ok": True}
    assert result.steps["adapter"] == {"ok": True}  # IQ4_NL weights and a LoRA adapter ran, not skipped
    assert "AMX_INT8 = 1" not in result.steps["started"]["system_info"]


def test_a_broken_model_fails_the_smoke_test_with_one_line(tmp_path):
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"GGUF" + b"\0" * 64)
    result = smoke_test(junk, timeout=60)
    assert not result.passed and result.detail.startswith("failed at load") and "\n" not in result.detail


def test_doctor_reports_build_cpu_smoke_threads_gpu_and_models():
    from api.cli import app

    out = CliRunner().invoke(app, ["doctor"])
    assert out.exit_code == 0, out.output
    for heading in ("cpu ", "features ", "engine ", "flags ", "compiler ", "threads ", "gpu ", "models ", "smoke "):
        assert any(line.startswith(heading) for line in out.output.splitlines()), (heading, out.output)
    assert "smoke      passed" in out.output and "GGML_AMX_INT8=OFF" in out.output
    facts = json.loads(CliRunner().invoke(app, ["doctor", "--json"]).output)
    assert facts["smoke"]["passed"] and facts["built_for_this_cpu"] is True
    assert facts["build"]["flavor"] in ("tuned", "portable") and facts["model_store"]["sha256_verified"]
    assert Path(facts["model_store"]["default_file"]).is_file()
