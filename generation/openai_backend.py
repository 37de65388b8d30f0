"""Any OpenAI-compatible chat server: ``vllm serve`` in production, llama.cpp's server on a laptop.

Token counting and the context window come from the server itself (llama.cpp ``/tokenize`` + ``/props``,
vLLM ``/tokenize`` + ``/v1/models``), so prompts are packed against the real tokenizer.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from ragqa.errors import GenerationError, GenerationTimeoutError, GenerationUnavailableError
from ragqa.generation.backend import Completion, GenerationBackend, Message, StreamChunk, Usage
from ragqa.generation.sampling import SamplingParams

log = logging.getLogger(__name__)

_DEFAULT_CONTEXT = 4096


def _usage(raw: dict[str, Any] | None) -> Usage:
    raw = raw or {}
    return Usage(int(raw.get("prompt_tokens") or 0), int(raw.get("completion_tokens") or 0))


class OpenAIBackend(GenerationBackend):
    name = "openai"

    def __init__(
        self,
        base_url: str,
        *,
        model: str | None = None,
        api_key: str | None = None,
        timeout: float = 120.0,
        context_window: int | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.root_url = self.base_url.removesuffix("/v1")
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=httpx.Timeout(timeout, connect=5.0), headers=headers)
        self._model = model or None
        self._context = context_window
        self._tokenize_style: str | None = None

    # discovery ------------------------------------------------------------------
    @contextmanager
    def _transport_errors(self) -> Iterator[None]:
        """Network failures become the errors the answerer and the API know how to report."""
        try:
            yield
        except httpx.TimeoutException as exc:
            raise GenerationTimeoutError(f"generation backend at {self.base_url} timed out") from exc
        except httpx.TransportError as exc:
            raise GenerationUnavailableError(
                f"generation backend at {self.base_url} is unreachable: {exc}"
            ) from exc

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        with self._transport_errors():
            response = self._client.request(method, url, **kwargs)
        self._raise_for_status(response)
        return response

    def _raise_for_status(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        try:
            body = response.read().decode(errors="replace")
            detail = json.loads(body).get("error", body)
            if isinstance(detail, dict):
                detail = detail.get("message", detail)
        except (ValueError, AttributeError):
            detail = response.text if not response.is_stream_consumed else ""
        message = f"generation backend returned HTTP {response.status_code}: {str(detail)[:300]}"
        if response.status_code in (502, 503, 504):
            raise GenerationUnavailableError(message)
        raise GenerationError(message)

    @property
    def model(self) -> str:  # type: ignore[override]
        if self._model is None:
            data = self._request("GET", f"{self.base_url}/models").json().get("data") or []
            if not data:
                raise GenerationUnavailableError(f"generation backend at {self.base_url} serves no model")
            self._model = str(data[0]["id"])
            if self._context is None and data[0].get("max_model_len"):
                self._context = int(data[0]["max_model_len"])  # vLLM
        return self._model

    @property
    def context_window(self) -> int:  # type: ignore[override]
        if self._context is None:
            _ = self.model
        if self._context is None:
            try:
                props = self._request("GET", f"{self.root_url}/props").json()
                settings = props.get("default_generation_settings", {})
                self._context = int(settings.get("n_ctx") or props.get("n_ctx") or _DEFAULT_CONTEXT)
            except GenerationError:
                self._context = _DEFAULT_CONTEXT
        return self._context

    def count_tokens(self, text: str) -> int:
        url = f"{self.root_url}/tokenize"
        if self._tokenize_style in (None, "llamacpp"):
            try:
                tokens = self._request("POST", url, json={"content": text, "add_special": False}).json()[
                    "tokens"
                ]
                self._tokenize_style = "llamacpp"
                return len(tokens)
            except (GenerationError, KeyError):
                if self._tokenize_style == "llamacpp":
                    raise
        if self._tokenize_style in (None, "vllm"):
            try:
                data = self._request("POST", url, json={"model": self.model, "prompt": text}).json()
                self._tokenize_style = "vllm"
                return int(data["count"])
            except (GenerationError, KeyError):
                if self._tokenize_style == "vllm":
                    raise
        if self._tokenize_style is None:
            log.warning("%s has no /tokenize endpoint; estimating tokens from characters", self.root_url)
            self._tokenize_style = "estimate"
        return len(text) // 2 + 1  # conservative for both English (~4 chars/token) and Chinese (~1.5)

    def health(self) -> bool:
        try:
            self._request("GET", f"{self.base_url}/models")
        except GenerationError:
            return False
        return True

    # generation -----------------------------------------------------------------
    def _body(self, messages: list[Message], params: SamplingParams, stream: bool) -> dict[str, Any]:
        body = {"model": self.model, "messages": [m.to_json() for m in messages], **params.openai_body()}
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return body

    def generate(self, messages: list[Message], params: SamplingParams) -> Completion:
        data = self._request(
            "POST", f"{self.base_url}/chat/completions", json=self._body(messages, params, False)
        )
        payload = data.json()
        choice = (payload.get("choices") or [{}])[0]
        text = (choice.get("message") or {}).get("content") or ""
        return Completion(
            text,
            choice.get("finish_reason") or "stop",
            payload.get("model", self.model),
            _usage(payload.get("usage")),
        )

    def stream(self, messages: list[Message], params: SamplingParams) -> Iterator[StreamChunk]:
        body = self._body(messages, params, True)
        with (
            self._transport_errors(),
            self._client.stream("POST", f"{self.base_url}/chat/completions", json=body) as response,
        ):
            self._raise_for_status(response)
            finish: str | None = None
            usage: Usage | None = None
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                event = json.loads(data)
                if event.get("usage"):
                    usage = _usage(event["usage"])
                for choice in event.get("choices") or []:
                    delta = (choice.get("delta") or {}).get("content")
                    if delta:
                        yield StreamChunk(delta=delta)
                    finish = choice.get("finish_reason") or finish
            yield StreamChunk(finish_reason=finish or "stop", usage=usage)

    def close(self) -> None:
        self._client.close()
