"""Compose a ready :class:`Searcher` for the collection named in settings."""

from __future__ import annotations

from ragqa.config import Settings
from ragqa.retrieval.collection import CollectionReader
from ragqa.retrieval.embedders import ENGLISH, get_embedder
from ragqa.retrieval.searcher import Searcher


def open_searcher(settings: Settings) -> Searcher:
    """Open the collection and the embedder it was built with (``auto``) or the one settings name."""
    reader = CollectionReader(settings)
    name = settings.embedder if settings.embedder != "auto" else (reader.embedder_name() or ENGLISH)
    return Searcher(settings, reader, get_embedder(settings, name))
