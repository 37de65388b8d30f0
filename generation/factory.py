"""Pick the generation backend named in settings."""

from __future__ import annotations

import os

from ragqa.config import Settings
from ragqa.errors import ConfigError
from ragqa.generation.backend import GenerationBackend

DEFAULT_LOCAL_MODEL = "qwen2.5-coder-1.5b"
DEFAULT_LOCAL_CONTEXT = 4096


def create_backend(settings: Settings) -> GenerationBackend:
    if settings.llm_backend == "llamacpp":
        from ragqa.generation.llamacpp_backend import LlamaCppBackend
        from ragqa.generation.models import resolve_model_file

        path = resolve_model_file(settings.llm_model or DEFAULT_LOCAL_MODEL, settings.model_cache)
        return LlamaCppBackend(
            path,
            context=settings.llm_context or DEFAULT_LOCAL_CONTEXT,
            threads=settings.llm_threads or settings.threads,
            timeout=settings.llm_timeout,
        )
    if settings.llm_backend == "llamacpp-native":
        from ragqa.generation.models import resolve_model_file
        from ragqa.generation.native_backend import NativeLlamaBackend

        path = resolve_model_file(settings.llm_model or DEFAULT_LOCAL_MODEL, settings.model_cache)
        return NativeLlamaBackend(
            path,
            context=settings.llm_context or DEFAULT_LOCAL_CONTEXT,
            threads=settings.llm_threads or settings.threads or (os.cpu_count() or 1),
            timeout=settings.llm_timeout,
        )
    if settings.llm_backend == "openvino":
        from ragqa.generation.openvino_backend import OpenVINOBackend
        from ragqa.generation.ov_export import ov_model_dir

        folder = ov_model_dir(settings.llm_model or DEFAULT_LOCAL_MODEL, settings.model_cache)
        return OpenVINOBackend(
            folder,
            context=settings.llm_context or DEFAULT_LOCAL_CONTEXT,
            threads=settings.llm_threads or settings.threads,
            timeout=settings.llm_timeout,
        )
    if settings.llm_backend == "openai":
        from ragqa.generation.openai_backend import OpenAIBackend

        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return OpenAIBackend(
            settings.llm_base_url,
            model=settings.llm_model,
            api_key=key,
            timeout=settings.llm_timeout,
            context_window=settings.llm_context,
        )
    if settings.llm_backend == "vllm":
        from ragqa.generation.hf_export import hf_model_dir
        from ragqa.generation.vllm_backend import VLLMBackend, require_vllm

        require_vllm()
        folder = hf_model_dir(settings.llm_model or DEFAULT_LOCAL_MODEL, settings.model_cache)
        return VLLMBackend(str(folder), context=settings.llm_context or DEFAULT_LOCAL_CONTEXT)
    raise ConfigError(f"unknown llm_backend {settings.llm_backend!r}")
