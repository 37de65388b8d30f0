"""A retriever that behaves as if some documents were not in the collection: the unanswerable QA set asks each
question with its own paragraph held out."""

from __future__ import annotations

from typing import Unpack

from ragqa.retrieval.embedders import Embedder
from ragqa.retrieval.retriever import Retriever, SearchOptions, SearchResult

_SPARE = 20  # extra hits asked for, so that k remain after the held-out document's chunks are dropped


class HeldOutRetriever:
    def __init__(self, inner: Retriever, default_k: int) -> None:
        self.inner = inner
        self.default_k = default_k
        self.excluded: frozenset[str] = frozenset()

    @property
    def embedder(self) -> Embedder:
        return self.inner.embedder

    def search(self, query: str, *, k: int | None = None, **options: Unpack[SearchOptions]) -> SearchResult:
        k = k or self.default_k
        result = self.inner.search(query, k=k + _SPARE, **options)
        result.hits = [h for h in result.hits if h.doc_id not in self.excluded][:k]
        return result
