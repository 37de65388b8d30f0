"""llama.cpp compiled on this machine (``llama-cpp-python``), in-process: ``RAGQA_LLM_BACKEND=llamacpp-native``.

The default ``llamacpp`` backend embeds the ``xllamacpp`` wheel, whose CPU build targets AVX2. On an AVX-512 CPU
a build made for it reads prompts faster: on this project's 2-core machine 1.89× the wheel's prefill for the
default 1.5B model, decode 0.85× (``bench/runtimes.py``). It is opt-in because it must be compiled (≈ 5 min;
README "Faster answers on AVX-512"). Weight repacking is off: here it made decoding 1.35× faster but prefill
1.27× slower, and RAG prompts are mostly prefill. One request runs at a time (the model is not
thread-safe); the prompt prefix shared with the previous request (system prompt, same sources) is reused,
except when a seed is given: a reused prefix changes the last bits of the logits, so a seeded answer is
computed from scratch to come out the same every time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ragqa.errors import ConfigError, GenerationError, GenerationTimeoutError, ModelFileError
from ragqa.generation.backend import Completion, GenerationBackend, Message, StreamChunk, Usage, collect
from ragqa.generation.sampling import SamplingParams

INSTALL = (
    "llm_backend 'llamacpp-native' needs llama-cpp-python built for this CPU: "
    "pip install 'ragqa[native]' (see the README, 'Faster answers on AVX-512')"
)


class NativeLlamaBackend(GenerationBackend):
    name = "llamacpp-native"

    def __init__(self, model_path: Path, *, context: int = 4096, threads: int = 2, timeout: float = 120.0):
        try:
            import llama_cpp.llama_cpp as low_level
        except ImportError as exc:
            raise ConfigError(INSTALL) from exc
        params = low_level.llama_model_default_params()
        if hasattr(params, "use_extra_bufts"):
            params.use_extra_bufts = False  # no weight repacking (see the module docstring)
        try:
            self._llm: Any = _load(low_level, model_path, params, context=context, threads=threads)
        except (ValueError, RuntimeError) as exc:
            raise ModelFileError(f"llama.cpp could not load {model_path}: {exc}") from exc
        self.model = model_path.stem
        self.context_window = context
        self.timeout = timeout
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode(), add_bos=False, special=True))

    @staticmethod
    def _kwargs(messages: list[Message], params: SamplingParams) -> dict[str, Any]:
        return {
            "messages": [m.to_json() for m in messages],
            "temperature": params.temperature,
            "top_p": params.top_p,
            "top_k": params.top_k,
            "max_tokens": params.max_tokens,
            "stop": list(params.stop) or None,
            "seed": params.seed,
            "repeat_penalty": params.repetition_penalty,
            "presence_penalty": params.presence_penalty,
            "frequency_penalty": params.frequency_penalty,
        }

    def generate(self, messages: list[Message], params: SamplingParams) -> Completion:
        return collect(self.stream(messages, params), self.model)

    def stream(self, messages: list[Message], params: SamplingParams) -> Iterator[StreamChunk]:
        with self._lock:
            if params.seed is not None:  # reproducible: no reused prefix (its logits differ in the last bits)
                self._llm.reset()
            deadline = time.monotonic() + self.timeout
            count = 0
            finish = "stop"
            try:
                events = self._llm.create_chat_completion(stream=True, **self._kwargs(messages, params))
                for event in events:
                    if time.monotonic() > deadline:
                        events.close()
                        raise GenerationTimeoutError(f"the model took longer than {self.timeout:g} s")
                    choice = event["choices"][0]
                    delta = choice.get("delta", {}).get("content") or ""
                    if delta:
                        count += 1
                        yield StreamChunk(delta=delta)
                    if choice.get("finish_reason"):
                        finish = choice["finish_reason"]
            except (RuntimeError, ValueError) as exc:
                raise GenerationError(f"llama.cpp failed: {exc}") from exc
            used = self._llm.n_tokens  # the context after generation: prompt + completion
            yield StreamChunk(finish_reason=finish, usage=Usage(max(used - count, 0), count))

    def close(self) -> None:
        self._llm = None


def _load(low_level: Any, path: Path, params: Any, *, context: int, threads: int) -> Any:
    """``Llama`` with the given model parameters (its constructor does not expose weight repacking)."""
    original = low_level.llama_model_default_params
    low_level.llama_model_default_params = lambda: params
    try:
        from llama_cpp import Llama

        return Llama(
            model_path=str(path),
            n_ctx=context,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )
    finally:
        low_level.llama_model_default_params = original
