"""The interface every dense vector backend implements, and the factory that picks one by name."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ragqa.config import Settings
from ragqa.errors import ConfigError


class VectorStore(ABC):
    """Inner-product search over L2-normalised vectors, keyed by integer chunk ids (``vid``)."""

    dim: int

    @abstractmethod
    def add(self, ids: np.ndarray, vectors: np.ndarray, texts: Sequence[str] | None = None) -> None:
        """Add vectors; ``texts`` (the indexed chunk text) feed stores with their own lexical index."""

    @abstractmethod
    def delete(self, ids: Sequence[int]) -> None: ...

    @abstractmethod
    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(scores, ids)``, both shaped ``(len(queries), k)``; missing slots have id -1."""

    @abstractmethod
    def save(self, directory: Path) -> None: ...

    @abstractmethod
    def __len__(self) -> int: ...

    def after_commit(self) -> None:  # noqa: B027 - optional hook
        """Called once the manifest recorded the generation; server-side stores apply deletes here."""


StoreFactory = Callable[[Settings, int], VectorStore]
StoreLoader = Callable[[Settings, Path], VectorStore]
_BACKENDS: dict[str, tuple[StoreFactory, StoreLoader]] = {}


def register_backend(name: str, create: StoreFactory, load: StoreLoader) -> None:
    _BACKENDS[name] = (create, load)


def _backend(name: str) -> tuple[StoreFactory, StoreLoader]:
    if name == "faiss" and name not in _BACKENDS:
        import ragqa.retrieval.faiss_store
    if name == "milvus" and name not in _BACKENDS:
        import ragqa.retrieval.milvus_store  # noqa: F401 - registers itself
    if name not in _BACKENDS:
        raise ConfigError(
            f"vector store {name!r} is not available; known: {', '.join(sorted(_BACKENDS)) or 'faiss'}"
        )
    return _BACKENDS[name]


def create_vector_store(settings: Settings, dim: int) -> VectorStore:
    return _backend(settings.store)[0](settings, dim)


def load_vector_store(settings: Settings, directory: Path) -> VectorStore:
    return _backend(settings.store)[1](settings, directory)
