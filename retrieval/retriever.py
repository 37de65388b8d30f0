"""What answering needs from retrieval: a :class:`Retriever` that turns a query into ranked :class:`Hit` s.

:class:`~ragqa.retrieval.searcher.Searcher` is the collection's retriever; wrappers (the eval's held-out
retriever) and Milvus's own hybrid search share the result type and the hit construction defined here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, TypedDict

from ragqa.retrieval.docstore import StoredChunk
from ragqa.retrieval.embedders import Embedder
from ragqa.retrieval.filters import SearchFilter
from ragqa.types import Hit, SearchMode


@dataclass(slots=True)
class SearchResult:
    hits: list[Hit]
    mode: SearchMode
    timings_ms: dict[str, float] = field(default_factory=dict)


class SearchOptions(TypedDict, total=False):
    """The keyword options of :meth:`Retriever.search` besides ``k``, for wrappers that pass them on."""

    mode: SearchMode
    depth: int | None
    one_per_document: bool
    search_filter: SearchFilter | None


class Retriever(Protocol):
    @property
    def embedder(self) -> Embedder:
        """The embedder the collection was built with (answer verification reuses it)."""
        ...

    def search(
        self,
        query: str,
        *,
        mode: SearchMode = "hybrid",
        k: int | None = None,
        depth: int | None = None,
        one_per_document: bool = False,
        search_filter: SearchFilter | None = None,
    ) -> SearchResult:
        """The ``k`` best chunks (or documents, one chunk each) for ``query`` among those ``search_filter``
        permits, best first."""
        ...


def hit_from_row(
    row: StoredChunk, score: float, ranks: dict[str, int | None], scores: dict[str, float | None]
) -> Hit:
    return Hit(
        chunk_id=row.chunk_id,
        doc_id=row.doc_id,
        score=score,
        text=row.text,
        title=row.title,
        source=row.source,
        span=(row.start, row.end),
        ranks=ranks,
        scores=scores,
    )
