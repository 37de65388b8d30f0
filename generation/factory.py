"""Pick the generation backend named in settings (``auto``: by model)."""

from __future__ import annotations

import os
from functools import cache

from ragqa.config import Settings
from ragqa.errors import ConfigError
from ragqa.generation.backend import GenerationBackend
from ragqa.types import LlmBackendName

DEFAULT_LOCAL_MODEL = "qwen2.5-coder-1.5b"
DEFAULT_LOCAL_CONTEXT = 4096


def backend_name(settings: Settings, *, bf16: bool | None = None) -> LlmBackendName:
    """The backend ``settings`` ask for. ``auto`` is ``openvino`` for the packaged default model on a CPU that
    computes in bfloat16 (AMX or AVX-512 BF16, where its 8-bit export answers about 3× sooner than the llama.cpp
    wheel at the same quality: README, "Performance → OpenVINO"), and ``llamacpp`` otherwise — for any other GGUF
    (OpenVINO's reader does not read every block type: the packaged 0.5B model's Q5_0, for one) and on CPUs where
    that gain was never measured. ``bf16`` overrides the CPU check."""
    if settings.llm_backend != "auto":
        return settings.llm_backend
    if (settings.llm_model or DEFAULT_LOCAL_MODEL) != DEFAULT_LOCAL_MODEL:
        return "llamacpp"
    return "openvino" if (cpu_computes_bf16() if bf16 is None else bf16) else "llamacpp"


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
