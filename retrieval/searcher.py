"""Query-time retrieval: BM25, dense HNSW, and their RRF fusion over one collection."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

from ragqa.config import Settings
from ragqa.errors import InputError
from ragqa.retrieval.collection import CollectionReader, IndexState
from ragqa.retrieval.embedders import Embedder
from ragqa.retrieval.filters import SearchFilter
from ragqa.retrieval.fusion import reciprocal_rank_fusion
from ragqa.retrieval.lexical import LexicalTokenizer
from ragqa.retrieval.retriever import SearchResult, hit_from_row
from ragqa.types import SEARCH_MODES, Hit, SearchMode

Mode = SearchMode
MODES: tuple[Mode, ...] = ("bm25", "dense", "hybrid")  # every store; "native" needs store=milvus
MAX_QUERY_CHARS = 4000
_PERMITTED_CACHE = 64  # filters whose permitted chunk ids are kept (per committed generation)


def _collapse(ranked: Sequence[tuple[int, float]], doc_of: dict[int, str]) -> list[tuple[int, float]]:
    """Keep each document's best chunk only."""
    seen: set[str] = set()
    out: list[tuple[int, float]] = []
    for vid, score in ranked:
        doc = doc_of.get(vid)
        if doc is None or doc in seen:
            continue
        seen.add(doc)
        out.append((vid, score))
    return out


# (query, k, depth, permitted vids or None): a store's own fused search
NativeSearch = Callable[[str, int, int, np.ndarray | None], SearchResult]


class Searcher:
    """The collection's :class:`~ragqa.retrieval.retriever.Retriever`: BM25, dense, and RRF over both."""

    def __init__(
        self,
        settings: Settings,
        reader: CollectionReader,
        embedder: Embedder,
        *,
        native: NativeSearch | None = None,
    ) -> None:
        self.settings = settings
        self.reader = reader
        self.embedder = embedder
        self.native = native
        self._permitted: dict[tuple[int, SearchFilter], np.ndarray] = {}
        self._permitted_lock = threading.Lock()
        reader.check_embedder(embedder.name, embedder.dim)
        self.tokenizer = LexicalTokenizer(reader.settings.cjk_segmentation)  # as the index was built

    def _bm25(
        self, state: IndexState, query: str, depth: int, allowed: np.ndarray | None
    ) -> list[tuple[int, float]]:
        return state.bm25.search(self.tokenizer.tokenize(query), depth, allowed)

    def _dense(
        self,
        state: IndexState,
        query: str,
        depth: int,
        timings: dict[str, float],
        allowed: np.ndarray | None,
    ) -> list[tuple[int, float]]:
        dense = state.dense
        if dense is None or not len(dense):
            return []
        t0 = time.perf_counter()
        vector = self.embedder.embed_query(query)
        t1 = time.perf_counter()
        scores, ids = dense.search(vector[None, :], depth, allowed)
        timings["embed"] = (t1 - t0) * 1000
        timings["dense"] = (time.perf_counter() - t1) * 1000
        return [(int(i), float(s)) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0]

    def permitted(self, search_filter: SearchFilter | None) -> np.ndarray | None:
        """The chunk ids ``search_filter`` permits (``None``: no filter), cached per committed generation."""
        if not search_filter:
            return None
        key = (self.reader.state.generation, search_filter)
        with self._permitted_lock:
            cached = self._permitted.get(key)
        if cached is None:
            cached = self.reader.docstore.vids_where(search_filter)
            with self._permitted_lock:
                if len(self._permitted) >= _PERMITTED_CACHE:
                    self._permitted.pop(next(iter(self._permitted)))
                self._permitted[key] = cached
        return cached

    def search(
        self,
        query: str,
        *,
        mode: Mode = "hybrid",
        k: int | None = None,
        depth: int | None = None,
        one_per_document: bool = False,
        search_filter: SearchFilter | None = None,
    ) -> SearchResult:
        query = query.strip()
        if not query:
            raise InputError("the query is empty")
        if len(query) > MAX_QUERY_CHARS:
            raise InputError(f"the query is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}")
        allowed = self.permitted(search_filter)
        if mode == "native":
            if self.native is None:
                raise InputError("search mode 'native' fuses inside Milvus: it needs RAGQA_STORE=milvus")
            return self.native(query, k or self.settings.top_k, depth or self.settings.fusion_depth, allowed)
        if mode not in MODES:
            raise InputError(f"unknown search mode {mode!r}; use one of {', '.join(SEARCH_MODES)}")
        k = k or self.settings.top_k
        depth = max(depth or self.settings.fusion_depth, k)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        state = self.reader.state  # one generation for the whole search, even if a refresh swaps it meanwhile
        lists: dict[str, list[tuple[int, float]]] = {}
        if mode in ("bm25", "hybrid"):
            t0 = time.perf_counter()
            lists["bm25"] = self._bm25(state, query, depth, allowed)
            timings["bm25"] = (time.perf_counter() - t0) * 1000
        if mode in ("dense", "hybrid"):
            lists["dense"] = self._dense(state, query, depth, timings, allowed)
        docstore = self.reader.docstore
        key_of: dict[int, int | str] = {vid: vid for ranked in lists.values() for vid, _ in ranked}
        if one_per_document:  # rank documents by their best chunk, and fuse on documents, not chunks
            doc_of = docstore.doc_of_vids(key_of)
            lists = {name: _collapse(ranked, doc_of) for name, ranked in lists.items()}
            key_of = {vid: doc_of[vid] for ranked in lists.values() for vid, _ in ranked}
        t0 = time.perf_counter()
        score_of = {name: {key_of[vid]: score for vid, score in ranked} for name, ranked in lists.items()}
        if mode == "hybrid":
            best_chunk: dict[int | str, tuple[int, int]] = {}  # key -> (best rank in any list, vid)
            for ranked in lists.values():
                for rank, (vid, _) in enumerate(ranked, start=1):
                    key = key_of[vid]
                    if key not in best_chunk or rank < best_chunk[key][0]:
                        best_chunk[key] = (rank, vid)
            rankings = {name: [key_of[vid] for vid, _ in ranked] for name, ranked in lists.items()}
            fused = reciprocal_rank_fusion(rankings, k=self.settings.rrf_k)
            top = [(best_chunk[f.key][1], f.key, f.score, f.ranks) for f in fused[:k]]
        else:
            top = [
                (vid, key_of[vid], score, {mode: rank})
                for rank, (vid, score) in enumerate(lists[mode][:k], start=1)
            ]
        timings["fuse"] = (time.perf_counter() - t0) * 1000
        rows = docstore.chunks_by_vid(vid for vid, _, _, _ in top)
        hits: list[Hit] = []
        for vid, key, score, ranks in top:
            row = rows.get(vid)
            if row is None:  # deleted after this generation was loaded
                continue
            hits.append(
                hit_from_row(
                    row,
                    score,
                    {name: ranks.get(name) for name in lists},
                    {name: score_of[name].get(key) for name in lists},
                )
            )
        timings["total"] = (time.perf_counter() - started) * 1000
        return SearchResult(hits, mode, timings)
