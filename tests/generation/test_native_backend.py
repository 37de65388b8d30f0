"""``llamacpp-native``: llama.cpp built on this machine (llama-cpp-python), with the packaged GGUF. Runs where the
package is installed (README "Faster answers on AVX-512"); skipped elsewhere. Without it, the backend's name
gives a clear error saying how to install it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from ragqa.config import load_settings
from ragqa.errors import ConfigError
from ragqa.generation.backend import Message
from ragqa.generation.factory import create_backend
from ragqa.generation.sampling import SamplingParams
from tests.cores import TEST_THREADS

INSTALLED = importlib.util.find_spec("llama_cpp") is not None
native = pytest.mark.skipif(not INSTALLED, reason="llama-cpp-python is not installed (opt-in native build)")


@native
def test_native_backend_answers_streams_and_counts_tokens(small_model: Path) -> None:
    from ragqa.generation.native_backend import NativeLlamaBackend

    backend = NativeLlamaBackend(small_model, context=2048, threads=TEST_THREADS)
    try:
        messages = [Message("user", "What is the capital of France? Answer with one word.")]
        params = SamplingParams(temperature=0, top_k=1, max_tokens=8, seed=1)
        completion = backend.generate(messages, params)
        assert "paris" in completion.text.lower()
        assert 1 <= completion.usage.completion_tokens <= 8 and completion.usage.prompt_tokens > 10
        chunks = list(backend.stream(messages, params))
        assert "".join(c.delta for c in chunks) == completion.text  # greedy: the same text again
        assert chunks[-1].finish_reason in ("stop", "length")
        assert backend.count_tokens("hello world") >= 2 and backend.context_window == 2048
    finally:
        backend.close()


def test_without_the_package_the_error_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as on a machine without it
    monkeypatch.setitem(sys.modules, "llama_cpp.llama_cpp", None)
    settings = load_settings(
        data_dir=tmp_path, llm_backend="llamacpp-native", llm_model=str(tmp_path / "m.gguf")
    )
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    with pytest.raises(ConfigError, match="ragqa\\[native\\]"):
        create_backend(settings)
