"""Pick the generation backend named in settings (``auto``: by model)."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from ragqa.config import Settings
from ragqa.errors import ConfigError
from ragqa.generation.backend import GenerationBackend
from ragqa.types import LlmBackendName

DEFAULT_LOCAL_MODEL = "qwen2.5-coder-1.5b"
DEFAULT_LOCAL_CONTEXT = 4096


def backend_name(settings: Settings, *, fast: bool | None = None) -> LlmBackendName:
    """The backend ``settings`` ask for. ``auto`` is ``openvino`` for the packaged default model on a CPU where its
    8-bit export was measured faster than the llama.cpp wheel (:func:`openvino_pays_here`), and ``llamacpp``
    otherwise — for any other GGUF (OpenVINO's reader does not read every block type: the packaged 0.5B model's
    Q5_0, for one) and on CPUs where it was not (AVX2 only). ``fast`` overrides the CPU check."""
    if settings.llm_backend != "auto":
        return settings.llm_backend
    if (settings.llm_model or DEFAULT_LOCAL_MODEL) != DEFAULT_LOCAL_MODEL:
        return "llamacpp"
    return "openvino" if (openvino_pays_here() if fast is None else fast) else "llamacpp"


def openvino_pays_here() -> bool:
    """A CPU that computes in bfloat16 (AMX or AVX-512 BF16: about 3× sooner answers than the wheel, README
    "Performance → OpenVINO") or has AVX-512 without it (2.5× to the first token, 1.4× decode:
    bench/results/runtimes-openvino-nobf16.json). Not with AVX2 only: on an AMD EPYC, 0.89× the wheel's prefill
    and 0.60× its decode (bench/results/runtimes-openvino-avx2.json)."""
    return cpu_computes_bf16() or cpu_has_avx512()


@cache
def cpu_has_avx512() -> bool:
    try:
        return "avx512f" in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").split()
    except OSError:  # not Linux: unknown, so not assumed
        return False


@cache
def cpu_computes_bf16() -> bool:
    """Whether OpenVINO's CPU plugin computes in bfloat16 here (it lists ``BF16`` among its capabilities)."""
    import openvino

    try:
        return "BF16" in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    except RuntimeError:
        return False


def create_backend(settings: Settings) -> GenerationBackend:
    name = backend_name(settings)
    if name == "llamacpp":
        from ragqa.generation.llamacpp_backend import LlamaCppBackend
        from ragqa.generation.models import resolve_model_file

        path = resolve_model_file(settings.llm_model or DEFAULT_LOCAL_MODEL, settings.model_cache)
        return LlamaCppBackend(
            path,
            context=settings.llm_context or DEFAULT_LOCAL_CONTEXT,
            threads=settings.llm_threads or settings.threads,
            timeout=settings.llm_timeout,
        )
    if name == "llamacpp-native":
        from ragqa.generation.models import resolve_model_file
        from ragqa.generation.native_backend import NativeLlamaBackend

        path = resolve_model_file(settings.llm_model or DEFAULT_LOCAL_MODEL, settings.model_cache)
        return NativeLlamaBackend(
            path,
            context=settings.llm_context or DEFAULT_LOCAL_CONTEXT,
            threads=settings.llm_threads or settings.threads or (os.cpu_count() or 1),
            timeout=settings.llm_timeout,
        )
    if name == "openvino":
        from ragqa.generation.openvino_backend import OpenVINOBackend
        from ragqa.generation.ov_export import ov_model_dir

        folder = ov_model_dir(settings.llm_model or DEFAULT_LOCAL_MODEL, settings.model_cache)
        return OpenVINOBackend(
            folder,
            context=settings.llm_context or DEFAULT_LOCAL_CONTEXT,
            threads=settings.llm_threads or settings.threads,
            timeout=settings.llm_timeout,
        )
    if name == "openai":
        from ragqa.generation.openai_backend import OpenAIBackend

        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return OpenAIBackend(
            settings.llm_base_url,
            model=settings.llm_model,
            api_key=key,
            timeout=settings.llm_timeout,
            context_window=settings.llm_context,
        )
    if name == "vllm":
        from ragqa.generation.hf_export import hf_model_dir
        from ragqa.generation.vllm_backend import VLLMBackend, require_vllm

        require_vllm()
        folder = hf_model_dir(settings.llm_model or DEFAULT_LOCAL_MODEL, settings.model_cache)
        return VLLMBackend(str(folder), context=settings.llm_context or DEFAULT_LOCAL_CONTEXT)
    raise ConfigError(f"unknown llm_backend {name!r}")
