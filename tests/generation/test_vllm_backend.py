"""The in-process vLLM backend: runs only where ``vllm`` is importable (a GPU box); skipped elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragqa.generation.backend import Message
from ragqa.generation.sampling import SamplingParams

vllm = pytest.importorskip("vllm", reason="vllm is not installed (GPU machines only)")
pytestmark = pytest.mark.gpu


def test_vllm_generates_and_counts_tokens(small_model: Path) -> None:
    from ragqa.generation.vllm_backend import VLLMBackend

    backend = VLLMBackend(str(small_model), context=2048)
    messages = [Message("user", "What is the capital of France? Answer with one word.")]
    completion = backend.generate(messages, SamplingParams(temperature=0, max_tokens=8, seed=1))
    assert "paris" in completion.text.lower() and completion.usage.completion_tokens <= 8
    assert backend.count_tokens("hello world") >= 2 and backend.context_window == 2048
    batch = backend.generate_batch([messages, messages], SamplingParams(temperature=0, max_tokens=8, seed=1))
    assert [c.text for c in batch] == [completion.text, completion.text]
    chunks = list(backend.stream(messages, SamplingParams(temperature=0, max_tokens=8, seed=1)))
    assert "".join(c.delta for c in chunks) == completion.text and chunks[-1].finish_reason
