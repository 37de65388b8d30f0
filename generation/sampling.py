"""Decoding controls, validated once, with the names users know from OpenAI and vLLM."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ragqa.errors import InputError


class SamplingParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float = Field(0.1, ge=0, le=2, description="0 = greedy; low keeps answers close to sources")
    top_p: float = Field(0.9, gt=0, le=1)
    top_k: int = Field(40, ge=0, description="0 disables top-k")
    max_tokens: int = Field(384, ge=1, le=8192)
    stop: tuple[str, ...] = Field((), max_length=8)
    seed: int | None = Field(None, ge=0)
    repetition_penalty: float = Field(1.05, gt=0, le=2)
    presence_penalty: float = Field(0.0, ge=-2, le=2)
    frequency_penalty: float = Field(0.0, ge=-2, le=2)

    @field_validator("stop")
    @classmethod
    def _non_empty_stops(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not s for s in value):
            raise ValueError("stop strings must not be empty")
        return value

    def openai_body(self) -> dict[str, Any]:
        """Fields for an OpenAI-compatible chat request; vLLM and llama.cpp read the extra ones at top level."""
        body: dict[str, Any] = {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
            "presence_penalty": self.presence_penalty,
            "frequency_penalty": self.frequency_penalty,
            "repetition_penalty": self.repetition_penalty,  # vLLM's name
            "repeat_penalty": self.repetition_penalty,  # llama.cpp's name
        }
        if self.top_k:
            body["top_k"] = self.top_k
        if self.stop:
            body["stop"] = list(self.stop)
        if self.seed is not None:
            body["seed"] = self.seed
        return body


def sampling_params(**values: Any) -> SamplingParams:
    """Build :class:`SamplingParams` from user input (``None`` = default), with one readable error."""
    clean = {k: v for k, v in values.items() if v is not None}
    try:
        return SamplingParams(**clean)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InputError(f"invalid sampling parameters: {problems}") from exc
