"""Compose a ready :class:`Searcher` for the collection named in settings."""

from __future__ import annotations

from ragqa.config import Settings
from ragqa.retrieval.collection import CollectionReader
from ragqa.retrieval.embedders import ENGLISH, get_embedder
from ragqa.retrieval.searcher import NativeSearch, Searcher


def open_searcher(settings: Settings, reader: CollectionReader | None = None) -> Searcher:
    """Open the collection (or use ``reader``) and the embedder it was built with (``auto``) or the one settings
    name; with ``store=milvus``, search mode ``native`` fuses inside Milvus."""
    reader = reader or CollectionReader(settings)
    name = settings.embedder if settings.embedder != "auto" else (reader.embedder_name() or ENGLISH)
    embedder = get_embedder(settings, name)
    native: NativeSearch | None = None
    if settings.store == "milvus":
        from ragqa.retrieval.milvus_hybrid import MilvusHybridSearch

        native = MilvusHybridSearch(settings, reader, embedder)
    return Searcher(settings, reader, embedder, native=native)
