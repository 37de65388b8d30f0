"""Which backend a setting names: ``auto`` (the default) by model, any other name as given."""

from __future__ import annotations

from pathlib import Path

from ragqa.config import load_settings
from ragqa.generation.factory import DEFAULT_LOCAL_MODEL, backend_name, cpu_computes_bf16, cpu_has_avx512
from ragqa.types import LLM_BACKENDS


def test_auto_runs_the_packaged_default_model_on_openvino_where_it_was_measured_faster() -> None:
    assert load_settings().llm_backend == "auto"
    assert backend_name(load_settings(), fast=True) == "openvino"
    assert backend_name(load_settings(llm_model=DEFAULT_LOCAL_MODEL), fast=True) == "openvino"
    assert backend_name(load_settings(), fast=False) == "llamacpp"  # e.g. AVX2 only: never measured
    for other in ("qwen2.5-coder-0.5b", "/models/mine.gguf"):  # the 0.5B: Q5_0 blocks OpenVINO cannot read
        assert backend_name(load_settings(llm_model=other), fast=True) == "llamacpp"


def test_this_cpu_is_asked_what_it_computes_in() -> None:
    flags = Path("/proc/cpuinfo").read_text().split() if Path("/proc/cpuinfo").is_file() else []
    has_bf16 = "amx_bf16" in flags or "avx512_bf16" in flags
    assert cpu_computes_bf16() == has_bf16
    assert cpu_has_avx512() == ("avx512f" in flags)
    fast = has_bf16 or "avx512f" in flags
    assert backend_name(load_settings()) == ("openvino" if fast else "llamacpp")


def test_a_named_backend_is_taken_as_given() -> None:
    for name in LLM_BACKENDS:
        if name != "auto":
            assert backend_name(load_settings(llm_backend=name)) == name
