from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from ragqa.errors import IndexCorruptError, IndexMismatchError
from ragqa.retrieval.faiss_store import FaissHNSWStore


def _vectors(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _store(dim: int = 32, **kw: float) -> FaissHNSWStore:
    params = {"m": 16, "ef_construction": 100, "ef_search": 64, "compact_ratio": 0.5, **kw}
    return FaissHNSWStore(dim, **params)  # type: ignore[arg-type]


def test_recall_against_brute_force() -> None:
    x = _vectors(3000)
    store = _store()
    ids = np.arange(1000, 4000, dtype=np.int64)
    store.add(ids, x)
    q = _vectors(50, seed=1)
    _, got = store.search(q, 10)
    exact = np.argsort(-(q @ x.T), axis=1)[:, :10] + 1000
    recall = np.mean([len(set(g) & set(e)) / 10 for g, e in zip(got, exact, strict=True)])
    assert recall >= 0.95
    assert store.index.hnsw.efConstruction == 100 and isinstance(store.index, faiss.IndexHNSWFlat)


def test_deleted_ids_never_come_back_and_compaction_keeps_the_rest() -> None:
    x = _vectors(200)
    store = _store()
    store.add(np.arange(200), x)
    store.delete(list(range(0, 60)))
    assert len(store) == 140 and len(store.tombstones) == 60
    _, got = store.search(x[:60], 5)
    assert not set(got.ravel().tolist()) & set(range(60))
    store.delete(list(range(60, 110)))  # 110 / 200 tombstoned → compaction
    assert store.index.ntotal == 90 and not store.tombstones
    _, got = store.search(x[110:], 1)
    assert got[:, 0].tolist() == list(range(110, 200))


def test_save_load_roundtrip(tmp_path: Path) -> None:
    x = _vectors(100)
    store = _store()
    store.add(np.arange(100), x)
    store.delete([3, 4])
    store.save(tmp_path / "dense")
    loaded = FaissHNSWStore.load(tmp_path / "dense", ef_search=32, compact_ratio=0.5)
    assert len(loaded) == 98 and loaded.m == 16 and loaded.index.hnsw.efSearch == 32
    _, a = store.search(x[:10], 5)
    _, b = loaded.search(x[:10], 5)
    assert (a == b).all()


def test_corrupt_or_missing_files_raise_a_clear_error(tmp_path: Path) -> None:
    store = _store()
    store.add(np.arange(10), _vectors(10))
    store.save(tmp_path / "dense")
    index_file = tmp_path / "dense" / "hnsw.faiss"
    index_file.write_bytes(index_file.read_bytes()[:100])
    with pytest.raises(IndexCorruptError, match="unreadable"):
        FaissHNSWStore.load(tmp_path / "dense", ef_search=32, compact_ratio=0.5)
    with pytest.raises(IndexCorruptError):
        FaissHNSWStore.load(tmp_path / "missing", ef_search=32, compact_ratio=0.5)


def test_wrong_dimension_is_refused() -> None:
    with pytest.raises(IndexMismatchError, match="dimension 16"):
        _store().add(np.arange(2), _vectors(2, dim=16))
