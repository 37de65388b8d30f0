"""A searcher that behaves as if some documents were not in the collection: the unanswerable QA set asks each
question with its own paragraph held out."""

from __future__ import annotations

from ragqa.retrieval.searcher import Mode, Searcher, SearchResult

_SPARE = 20  # extra hits asked for, so that k remain after the held-out document's chunks are dropped


class HeldOutSearcher(Searcher):
    def __init__(self, searcher: Searcher) -> None:
        super().__init__(searcher.settings, searcher.reader, searcher.embedder)
        self.excluded: frozenset[str] = frozenset()

    def search(
        self,
        query: str,
        *,
        mode: Mode = "hybrid",
        k: int | None = None,
        depth: int | None = None,
        one_per_document: bool = False,
    ) -> SearchResult:
        k = k or self.settings.top_k
        result = super().search(
            query, mode=mode, k=k + _SPARE, depth=depth, one_per_document=one_per_document
        )
        result.hits = [h for h in result.hits if h.doc_id not in self.excluded][:k]
        return result
