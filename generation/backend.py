"""One interface for every generation backend: messages + sampling in; text, stream, usage, finish reason out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from ragqa.generation.sampling import SamplingParams

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str

    def to_json(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(slots=True)
class Completion:
    text: str
    finish_reason: str
    model: str
    usage: Usage = field(default_factory=Usage)


@dataclass(slots=True)
class StreamChunk:
    """A piece of a streamed answer; the last one carries ``finish_reason`` (and usage when known)."""

    delta: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None


def collect(chunks: Iterable[StreamChunk], model: str) -> Completion:
    """A whole completion from a stream (for backends whose one way to generate is streaming)."""
    pieces: list[str] = []
    finish, usage = "stop", Usage()
    for chunk in chunks:
        pieces.append(chunk.delta)
        if chunk.finish_reason:
            finish = chunk.finish_reason
        if chunk.usage is not None:
            usage = chunk.usage
    return Completion("".join(pieces), finish, model, usage)


class GenerationBackend(ABC):
    name: str
    model: str
    context_window: int

    @abstractmethod
    def count_tokens(self, text: str) -> int: ...

    @abstractmethod
    def generate(self, messages: list[Message], params: SamplingParams) -> Completion: ...

    @abstractmethod
    def stream(self, messages: list[Message], params: SamplingParams) -> Iterator[StreamChunk]: ...

    def health(self) -> bool:
        return True

    def close(self) -> None:  # noqa: B027 - optional hook
        pass
