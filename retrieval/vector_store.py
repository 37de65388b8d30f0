"""The interface every dense vector backend implements, and the factory that picks one by name."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ragqa.config import Settings
from ragqa.errors import ConfigError
from ragqa.extras import require
from ragqa.types import STORE_NAMES


class VectorStore(ABC):
    """Inner-product search over L2-normalised vectors, keyed by integer chunk ids (``vid``)."""

    dim: int

    @abstractmethod
    def add(self, ids: np.ndarray, vectors: np.ndarray, texts: Sequence[str] | None = None) -> None:
        """Add vectors; ``texts`` (the indexed chunk text) feed stores with their own lexical index."""

    @abstractmethod
    def delete(self, ids: Sequence[int]) -> None: ...

    @abstractmethod
    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(scores, ids)``, both shaped ``(len(queries), k)``; missing slots have id -1. With
        ``allowed`` (sorted vids), only those are searched."""

    @abstractmethod
    def save(self, directory: Path) -> None: ...

    @abstractmethod
    def __len__(self) -> int: ...

    def after_commit(self) -> None:  # noqa: B027 - optional hook
        """Called once the manifest recorded the generation; server-side stores apply deletes here."""


StoreFactory = Callable[[Settings, int], VectorStore]
StoreLoader = Callable[[Settings, Path], VectorStore]


def _backend(settings: Settings) -> tuple[StoreFactory, StoreLoader]:
    """The store named in settings, imported only when picked (pymilvus is not loaded for FAISS)."""
    name = settings.store
    if name == "faiss":
        from ragqa.retrieval import faiss_store

        return faiss_store.create, faiss_store.load
    if name == "milvus":
        require("pymilvus", "milvus", "store=milvus")
        if not settings.milvus_uri.startswith(("http://", "https://", "tcp://")):
            require("milvus_lite", "milvus", "Milvus Lite (store=milvus without a server URI)")
        from ragqa.retrieval.milvus_store import MilvusStore

        return MilvusStore.create, MilvusStore.load
    raise ConfigError(f"vector store {name!r} is not available; known: {', '.join(STORE_NAMES)}")


def create_vector_store(settings: Settings, dim: int) -> VectorStore:
    return _backend(settings)[0](settings, dim)


def load_vector_store(settings: Settings, directory: Path) -> VectorStore:
    return _backend(settings)[1](settings, directory)
