from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np
import pytest

from ragqa.config import load_settings
from ragqa.retrieval.embedders import MULTILINGUAL, Embedder, get_embedder
from ragqa.retrieval.query_batcher import QueryBatcher

QUESTIONS = [f"question number {i} about hybrid retrieval" for i in range(24)]


def _concurrently(batcher: QueryBatcher, texts: Sequence[str]) -> list[np.ndarray]:
    results: list[np.ndarray | None] = [None] * len(texts)
    start = threading.Barrier(len(texts))

    def ask(i: int) -> None:
        start.wait()
        results[i] = batcher.embed(texts[i])

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r is not None for r in results)
    return results  # type: ignore[return-value]


@pytest.mark.parametrize("name", ["minilm", MULTILINGUAL])
def test_batched_queries_get_their_own_vectors(name: str) -> None:
    embedder = get_embedder(load_settings(), name)
    batcher = QueryBatcher(embedder.embed_queries, max_batch=8)
    vectors = _concurrently(batcher, QUESTIONS)
    for text, vector in zip(QUESTIONS, vectors, strict=True):
        np.testing.assert_allclose(vector, embedder.embed_query(text), atol=2e-4)
    assert batcher.queries == len(QUESTIONS)
    assert batcher.calls < len(QUESTIONS)  # concurrent queries shared engine calls


def test_a_lone_query_is_embedded_at_once(embedder: Embedder) -> None:
    batcher = QueryBatcher(embedder.embed_queries)
    np.testing.assert_allclose(batcher.embed("bm25"), embedder.embed_query("bm25"), atol=1e-5)
    assert (batcher.calls, batcher.queries) == (1, 1)


def test_waiting_queries_are_taken_together_and_in_batches_of_at_most_max() -> None:
    seen: list[int] = []

    def slow_engine(texts: Sequence[str]) -> np.ndarray:  # records each engine call's batch size
        seen.append(len(texts))
        time.sleep(0.05)
        return np.array([[float(t.split()[-1])] for t in texts])

    batcher = QueryBatcher(slow_engine, max_batch=5)
    texts = [f"q {i}" for i in range(17)]
    vectors = _concurrently(batcher, texts)
    assert [float(v[0]) for v in vectors] == list(range(17))
    assert max(seen) <= 5 and sum(seen) == 17 and len(seen) < 17


def test_an_engine_error_reaches_every_query_of_its_batch_and_the_next_call_works() -> None:
    calls = 0

    def failing_once(texts: Sequence[str]) -> np.ndarray:
        nonlocal calls
        calls += 1
        if calls == 1:
            time.sleep(0.05)
            raise RuntimeError("engine failed")
        return np.ones((len(texts), 2))

    batcher = QueryBatcher(failing_once)
    errors: list[str] = []

    def ask() -> None:
        try:
            batcher.embed("q")
        except RuntimeError as exc:
            errors.append(str(exc))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert "engine failed" in errors
    assert batcher.embed("again").tolist() == [1.0, 1.0]
