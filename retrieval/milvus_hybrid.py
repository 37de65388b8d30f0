"""Search mode ``native``: BM25 and dense fused inside Milvus (``RRFRanker``), for ``store=milvus`` only."""

from __future__ import annotations

import time

import numpy as np

from ragqa.config import Settings
from ragqa.errors import InputError
from ragqa.retrieval.collection import CollectionReader
from ragqa.retrieval.embedders import Embedder
from ragqa.retrieval.milvus_store import MilvusStore, native_hybrid
from ragqa.retrieval.retriever import SearchResult, hit_from_row


class MilvusHybridSearch:
    def __init__(self, settings: Settings, reader: CollectionReader, embedder: Embedder) -> None:
        self.settings = settings
        self.reader = reader
        self.embedder = embedder

    def __call__(self, query: str, k: int, depth: int, allowed: np.ndarray | None = None) -> SearchResult:
        dense = self.reader.state.dense
        if not isinstance(dense, MilvusStore):
            raise InputError("search mode 'native' fuses inside Milvus: it needs RAGQA_STORE=milvus")
        started = time.perf_counter()
        vector = self.embedder.embed_query(query)
        fused = native_hybrid(
            dense, query, vector, k, depth=max(depth, k), rrf_k=self.settings.rrf_k, allowed=allowed
        )
        rows = self.reader.docstore.chunks_by_vid(vid for vid, _ in fused)
        hits = [
            hit_from_row(row, score, {"native": rank}, {"native": score})
            for rank, (vid, score) in enumerate(fused, start=1)
            if (row := rows.get(vid)) is not None
        ]
        return SearchResult(hits, "native", {"total": (time.perf_counter() - started) * 1000})
