"""The llamacpp backend, the openai backend against llama.cpp's own OpenAI-compatible server, llamacpp-native
(llama.cpp built on this machine) where it is installed, and openvino: the same contract for each."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from ragqa.errors import GenerationError, GenerationTimeoutError, GenerationUnavailableError
from ragqa.generation.backend import GenerationBackend, Message
from ragqa.generation.llamacpp_backend import LlamaCppBackend, LlamaCppServer, free_port
from ragqa.generation.openai_backend import OpenAIBackend
from ragqa.generation.sampling import SamplingParams
from tests.cores import TEST_THREADS

MESSAGES = [
    Message("system", "You are terse."),
    Message("user", "What is the capital of France? Answer with one word."),
]


@pytest.fixture(scope="module")
def native_backend(small_model: Path) -> Iterator[GenerationBackend]:
    """llama.cpp built here (``llamacpp-native``), where llama-cpp-python is installed."""
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (opt-in native build)")
    from ragqa.generation.native_backend import NativeLlamaBackend

    backend = NativeLlamaBackend(small_model, context=2048, threads=TEST_THREADS, timeout=60)
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def openvino_backend(default_model: Path, models_dir: Path) -> Iterator[GenerationBackend]:
    """OpenVINO GenAI on the 8-bit export of the default GGUF (made once into the test model cache)."""
    from ragqa.generation.openvino_backend import OpenVINOBackend
    from ragqa.generation.ov_export import ov_model_dir

    backend = OpenVINOBackend(
        ov_model_dir(default_model.stem, models_dir), context=2048, threads=TEST_THREADS, timeout=60
    )
    yield backend
    backend.close()


@pytest.fixture(params=["llamacpp", "openai", "llamacpp-native", "openvino"])
def backend(
    request: pytest.FixtureRequest, small_backend: LlamaCppBackend, small_server: LlamaCppServer
) -> GenerationBackend:
    if request.param == "llamacpp":
        return small_backend
    if request.param in ("llamacpp-native", "openvino"):
        return request.getfixturevalue(f"{request.param.replace('llamacpp-', '')}_backend")  # type: ignore[no-any-return]
    return OpenAIBackend(f"{small_server.url}/v1", api_key=small_server.api_key, timeout=60)


def test_generate_text_usage_and_finish_reason(backend: GenerationBackend) -> None:
    completion = backend.generate(MESSAGES, SamplingParams(temperature=0, max_tokens=8, seed=1))
    assert "paris" in completion.text.lower()
    assert completion.usage.prompt_tokens > 10 and 0 < completion.usage.completion_tokens <= 8
    assert completion.finish_reason in {"stop", "length"}


def test_stream_yields_deltas_then_finish(backend: GenerationBackend) -> None:
    chunks = list(backend.stream(MESSAGES, SamplingParams(temperature=0, max_tokens=8, seed=1)))
    text = "".join(c.delta for c in chunks)
    assert "paris" in text.lower() and len([c for c in chunks if c.delta]) >= 1
    assert chunks[-1].finish_reason in {"stop", "length"} and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens >= 1


def test_max_tokens_and_seed_are_honoured(backend: GenerationBackend) -> None:
    params = SamplingParams(temperature=1.0, top_p=1.0, max_tokens=12, seed=123)
    story = [Message("user", "Write a long story about a dragon.")]
    first, second = backend.generate(story, params), backend.generate(story, params)
    assert first.finish_reason == "length" and first.usage.completion_tokens == 12
    assert first.text == second.text  # same seed, same sample


def test_tokens_and_context_come_from_the_server(backend: GenerationBackend) -> None:
    assert backend.context_window == 2048
    assert backend.count_tokens("hello world") == 2
    assert backend.count_tokens("北京是中国的首都") >= 3


def test_context_overflow_is_an_error_not_a_truncation(backend: GenerationBackend) -> None:
    with pytest.raises(GenerationError, match="context"):
        backend.generate([Message("user", "word " * 3000)], SamplingParams(max_tokens=4))


def test_down_server_and_timeouts() -> None:
    dead = OpenAIBackend(f"http://127.0.0.1:{free_port()}/v1", model="x", timeout=2)
    with pytest.raises(GenerationUnavailableError, match="unreachable"):
        dead.generate(MESSAGES, SamplingParams())
    with pytest.raises(GenerationUnavailableError):
        list(dead.stream(MESSAGES, SamplingParams()))
    assert not dead.health()


def test_slow_generation_times_out(small_server: LlamaCppServer) -> None:
    slow = OpenAIBackend(f"{small_server.url}/v1", api_key=small_server.api_key, timeout=0.05)
    with pytest.raises(GenerationTimeoutError):
        slow.generate([Message("user", "Write a long story.")], SamplingParams(max_tokens=400))
