"""Opportunistic batching of query embeddings across concurrent searches.

Concurrent searches (the API runs each in a worker thread) would otherwise queue for the embedding engine one
by one. Here the first caller to find the engine free embeds every query waiting at that moment in one call;
the others wait for their vector. Nobody waits for a timer: a lone query is embedded at once, so single-query
latency is unchanged, and under load each engine call serves many queries.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

EmbedMany = Callable[[Sequence[str]], np.ndarray]


@dataclass(slots=True)
class _Request:
    text: str
    vector: np.ndarray | None = None
    error: BaseException | None = None
    done: bool = False


class QueryBatcher:
    """``embed(text)`` from any thread; the engine sees batches of up to ``max_batch`` queries."""

    def __init__(self, embed_many: EmbedMany, *, max_batch: int = 32) -> None:
        self._embed_many = embed_many
        self.max_batch = max_batch
        self._cond = threading.Condition()
        self._waiting: list[_Request] = []
        self._busy = False
        self.calls = 0  # engine calls made, for tests and metrics
        self.queries = 0

    def embed(self, text: str) -> np.ndarray:
        request = _Request(text)
        with self._cond:
            self._waiting.append(request)
        while True:
            with self._cond:
                while self._busy and not request.done:
                    self._cond.wait()
                if request.done:
                    break
                # the engine is free: this thread takes what is waiting (its own request, unless more than
                # max_batch queued before it — then it goes round again)
                self._busy = True
                batch, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch :]
            self._run(batch)
        if request.error is not None:
            raise request.error
        assert request.vector is not None
        return request.vector

    def _run(self, batch: list[_Request]) -> None:
        try:
            vectors = self._embed_many([r.text for r in batch])
            for r, vector in zip(batch, vectors, strict=True):
                r.vector = vector
        except BaseException as exc:  # every query of the batch gets the engine's error
            for r in batch:
                r.error = exc
        finally:
            with self._cond:
                for r in batch:
                    r.done = True
                self.calls += 1
                self.queries += len(batch)
                self._busy = False
                self._cond.notify_all()
