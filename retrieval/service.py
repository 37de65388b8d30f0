"""Compose a ready :class:`Searcher` for the collection named in settings."""

from __future__ import annotations

from ragqa.config import Settings
from ragqa.retrieval.collection import CollectionReader
from ragqa.retrieval.embedders import get_embedder
from ragqa.retrieval.searcher import Searcher


def open_searcher(settings: Settings) -> Searcher:
    return Searcher(settings, CollectionReader(settings), get_embedder(settings))
