"""The packaged GGUF run by OpenVINO GenAI, in-process: ``RAGQA_LLM_BACKEND=openvino``.

OpenVINO's CPU plugin computes prompts in bfloat16 on the CPU's matrix units (AMX) where it has them: on this
project's 2-core machine the default 1.5B model reads a 1,000-token prompt about 3× as fast as the
``xllamacpp`` wheel, and decodes about half as fast (``bench/runtimes.py --openvino``). RAG prompts are mostly
prefill and answers short, so answers come back sooner. The weights are an 8-bit export of the same GGUF made
once into the model cache (:mod:`ragqa.generation.ov_export`). One request runs at a time; KV blocks of earlier
prompts are kept (prefix caching), so the instructions — and the sources, when an answer is asked again to copy
its sentence — are not read twice. Prompt lookup decoding is on (:data:`DEFAULT_LOOKUP_TOKENS`): an answer that
quotes its sources is decoded several tokens per step, with the same greedy text.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ragqa.errors import GenerationError, GenerationTimeoutError, ModelFileError
from ragqa.generation.backend import Completion, GenerationBackend, Message, StreamChunk, Usage, collect
from ragqa.generation.ov_export import SUFFIX
from ragqa.generation.sampling import SamplingParams

_DONE = object()
LOOKUP_NGRAM = 3
DEFAULT_LOOKUP_TOKENS = 10
"""Prompt lookup decoding: up to this many next tokens are guessed by finding the last LOOKUP_NGRAM generated
tokens in the prompt and copying what followed them there; the model checks all of them in one step. Answers
quote their sources, so many guesses hold, and the check of 10 costs about one step on this CPU's matrix units."""


class OpenVINOBackend(GenerationBackend):
    name = "openvino"

    def __init__(
        self,
        folder: Path,
        *,
        context: int = 4096,
        threads: int = 0,
        timeout: float = 120.0,
        prefix_cache_gb: int = 1,
        lookup_tokens: int = DEFAULT_LOOKUP_TOKENS,
    ):
        import openvino_genai

        self._genai: Any = openvino_genai
        config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY"}
        if threads:
            config["INFERENCE_NUM_THREADS"] = threads
        if prefix_cache_gb:
            scheduler = openvino_genai.SchedulerConfig()
            scheduler.enable_prefix_caching = True  # the instructions, and the sources again on a second ask
            scheduler.cache_size = prefix_cache_gb
            config["scheduler_config"] = scheduler
        if lookup_tokens:
            config["prompt_lookup"] = True
        self.lookup_tokens = lookup_tokens
        try:
            self._pipe: Any = openvino_genai.LLMPipeline(str(folder), "CPU", **config)
        except RuntimeError as exc:
            raise ModelFileError(f"OpenVINO could not load {folder}: {exc}") from exc
        self._tokenizer: Any = self._pipe.get_tokenizer()
        self.model = folder.name.removesuffix(f"-{SUFFIX}")
        self.context_window = context
        self.timeout = timeout
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        ids = self._tokenizer.encode(text, add_special_tokens=False).input_ids
        return int(ids.get_shape()[-1])

    def _prompt(self, messages: list[Message]) -> str:
        history = [m.to_json() for m in messages]
        return str(self._tokenizer.apply_chat_template(history, add_generation_prompt=True))

    def _config(self, params: SamplingParams, prompt_tokens: int) -> Any:
        room = self.context_window - prompt_tokens
        if room < 1:
            raise GenerationError(
                f"the prompt ({prompt_tokens} tokens) does not fit the model's context of {self.context_window}"
            )
        config = self._genai.GenerationConfig()
        config.max_new_tokens = min(params.max_tokens, room)
        config.apply_chat_template = False
        config.repetition_penalty = params.repetition_penalty
        config.presence_penalty = params.presence_penalty
        config.frequency_penalty = params.frequency_penalty
        if self.lookup_tokens:
            config.num_assistant_tokens = self.lookup_tokens
            config.max_ngram_size = LOOKUP_NGRAM
        if params.stop:
            config.stop_strings = set(params.stop)
        if params.temperature > 0:
            config.do_sample = True
            config.temperature = params.temperature
            config.top_p = params.top_p
            config.top_k = params.top_k or 0
            if params.seed is not None:
                config.rng_seed = params.seed
        return config

    def generate(self, messages: list[Message], params: SamplingParams) -> Completion:
        return collect(self.stream(messages, params), self.model)

    def stream(self, messages: list[Message], params: SamplingParams) -> Iterator[StreamChunk]:
        prompt = self._prompt(messages)
        prompt_tokens = self.count_tokens(prompt)
        config = self._config(params, prompt_tokens)
        with self._lock:
            pieces: queue.Queue[Any] = queue.Queue()
            deadline = time.monotonic() + self.timeout
            cancelled, timed_out = threading.Event(), threading.Event()

            def streamer(text: str) -> Any:
                pieces.put(text)
                if time.monotonic() > deadline:
                    timed_out.set()
                if cancelled.is_set() or timed_out.is_set():
                    return self._genai.StreamingStatus.CANCEL
                return self._genai.StreamingStatus.RUNNING

            outcome: dict[str, Any] = {}

            def run() -> None:
                try:
                    outcome["result"] = self._pipe.generate([prompt], config, streamer)
                except Exception as exc:
                    outcome["error"] = exc
                finally:
                    pieces.put(_DONE)

            worker = threading.Thread(target=run, name="openvino-generate", daemon=True)
            worker.start()
            try:
                while (piece := pieces.get()) is not _DONE:
                    if piece:
                        yield StreamChunk(delta=piece)
            finally:
                cancelled.set()
                worker.join()
            if "error" in outcome:
                raise GenerationError(f"OpenVINO failed: {outcome['error']}") from outcome["error"]
            if timed_out.is_set():
                raise GenerationTimeoutError(f"the model took longer than {self.timeout:g} s")
            generated = int(outcome["result"].perf_metrics.get_num_generated_tokens())
            finish = "length" if generated >= config.max_new_tokens else "stop"
            yield StreamChunk(finish_reason=finish, usage=Usage(prompt_tokens, generated))

    def close(self) -> None:
        self._pipe = None
