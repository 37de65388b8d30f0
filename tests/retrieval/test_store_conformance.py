"""One conformance suite for every vector store backend: FAISS (embedded) and Milvus Lite."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from ragqa.config import Settings
from ragqa.errors import IndexMismatchError, InputError
from ragqa.ingest.pipeline import Ingestor
from ragqa.retrieval.collection import CollectionReader
from ragqa.retrieval.embedders import Embedder
from ragqa.retrieval.searcher import Searcher
from ragqa.retrieval.service import open_searcher
from ragqa.retrieval.vector_store import create_vector_store, load_vector_store

STORES = ["faiss", "milvus"]


def _vectors(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(params=STORES)
def store_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    return settings.model_copy(update={"store": request.param})


def test_search_matches_brute_force_and_survives_reload(store_settings: Settings, tmp_path: Path) -> None:
    x = _vectors(2000)
    store = create_vector_store(store_settings, 32)
    store.add(np.arange(10, 2010), x)
    store.save(tmp_path / "dense")
    store.after_commit()
    q = _vectors(40, seed=1)
    _, got = store.search(q, 10)
    exact = np.argsort(-(q @ x.T), axis=1)[:, :10] + 10
    recall = np.mean([len(set(g) & set(e)) / 10 for g, e in zip(got, exact, strict=True)])
    assert recall >= 0.95
    reloaded = load_vector_store(store_settings, tmp_path / "dense")
    assert len(reloaded) == 2000
    assert (reloaded.search(q, 10)[1] == got).mean() > 0.95


def test_deletes_take_effect_after_commit(store_settings: Settings, tmp_path: Path) -> None:
    x = _vectors(300)
    store = create_vector_store(store_settings, 32)
    store.add(np.arange(300), x)
    store.save(tmp_path / "dense")
    store.after_commit()
    store.delete(list(range(50)))
    store.save(tmp_path / "dense")
    store.after_commit()
    assert len(store) == 250
    _, got = store.search(x[:50], 5)
    assert not set(got.ravel().tolist()) & set(range(50))


def test_dimension_mismatch_is_refused(store_settings: Settings, tmp_path: Path) -> None:
    store = create_vector_store(store_settings, 32)
    with pytest.raises(IndexMismatchError, match="16"):
        store.add(np.arange(2), _vectors(2, dim=16))
    store.add(np.arange(2), _vectors(2))
    store.save(tmp_path / "dense")
    if store_settings.store == "milvus":  # an existing server-side collection of another dimension
        with pytest.raises(IndexMismatchError, match="32-dimensional"):
            create_vector_store(store_settings, 16)


def test_milvus_lite_keeps_the_hnsw_parameters(settings: Settings) -> None:
    from ragqa.retrieval.milvus_store import MilvusStore

    store = create_vector_store(settings.model_copy(update={"store": "milvus", "hnsw_m": 24}), 8)
    assert isinstance(store, MilvusStore)
    store.add(np.arange(3), _vectors(3, dim=8), ["alpha", "beta", "gamma"])
    store.save(settings.data_dir / "dense")
    built = store.index_params()
    assert built["index_type"] == "HNSW" and built["metric_type"] == "IP"
    assert built["params"] == {"M": 24, "efConstruction": 200}


def test_collection_lifecycle(
    store_settings: Settings, embedder: Embedder, docs_dir: Path, tmp_path: Path
) -> None:
    """Ingest, re-ingest (no-op), delete a document, restart, and read while a writer commits."""
    with Ingestor(store_settings, embedder=embedder, progress=False) as ingestor:
        first = ingestor.ingest_paths([docs_dir])
    with Ingestor(store_settings, embedder=embedder, progress=False) as ingestor:
        again = ingestor.ingest_paths([docs_dir])
    assert first.chunks_embedded > 0 and again.chunks_embedded == 0 and again.generation == first.generation

    reader = CollectionReader(store_settings)
    searcher = Searcher(store_settings, reader, embedder)
    stats = reader.stats()
    assert stats["chunks"] == stats["dense_vectors"] == stats["bm25_chunks"]
    hit = searcher.search("what happens when ingestion is killed", mode="dense", k=1).hits[0]

    extra = tmp_path / "extra.txt"
    extra.write_text("Quokkas are small marsupials. " * 5)
    errors: list[Exception] = []
    stop = threading.Event()

    def read_loop() -> None:
        while not stop.is_set():
            try:
                searcher.search("marsupial", k=3)
                reader.refresh()
            except Exception as exc:
                errors.append(exc)

    thread = threading.Thread(target=read_loop)
    thread.start()
    with Ingestor(store_settings, embedder=embedder, progress=False) as ingestor:
        ingestor.ingest_paths([extra])
        ingestor.delete([hit.doc_id])
    stop.set()
    thread.join()
    assert not errors

    restarted = CollectionReader(store_settings)  # persistence across restart
    after = restarted.stats()
    assert after["chunks"] == after["dense_vectors"] == after["bm25_chunks"]
    dense = (
        Searcher(store_settings, restarted, embedder)
        .search("what happens when ingestion is killed", mode="dense", k=20)
        .hits
    )
    assert hit.doc_id not in {h.doc_id for h in dense}
    assert Searcher(store_settings, restarted, embedder).search("quokka marsupial", k=1).hits[
        0
    ].source == str(extra.resolve())


def test_unreachable_milvus_server_is_a_clear_error(settings: Settings) -> None:
    from ragqa.errors import VectorStoreUnavailableError
    from ragqa.generation.llamacpp_backend import free_port

    down = settings.model_copy(update={"store": "milvus", "milvus_uri": f"http://127.0.0.1:{free_port()}"})
    with pytest.raises(VectorStoreUnavailableError, match="unreachable"):
        create_vector_store(down, 8)


def test_milvus_native_hybrid_is_rrf_of_its_own_lists(
    settings: Settings, embedder: Embedder, docs_dir: Path
) -> None:
    """Milvus fuses its BM25 and dense lists with RRFRanker(60); ragqa's RRF over the same two lists agrees."""
    from ragqa.retrieval.fusion import reciprocal_rank_fusion
    from ragqa.retrieval.milvus_store import MilvusStore, native_bm25

    milvus = settings.model_copy(update={"store": "milvus"})
    with Ingestor(milvus, embedder=embedder, progress=False) as ingestor:
        ingestor.ingest_paths(
            [docs_dir / "overview.md", docs_dir / "configuration.md", docs_dir / "troubleshooting.md"]
        )
    searcher = open_searcher(milvus)  # as the CLI and API open it: native search comes with store=milvus
    store = searcher.reader.state.dense
    assert isinstance(store, MilvusStore)
    for query in ("reciprocal rank fusion", "what happens when a file cannot be read", "HNSW efSearch"):
        depth = 20
        lexical = [vid for vid, _ in native_bm25(store, query, depth)]
        dense = [int(v) for v in store.search(embedder.embed_query(query)[None, :], depth)[1][0] if v >= 0]
        ours = reciprocal_rank_fusion({"dense": dense, "bm25": lexical}, k=60)
        native = searcher.search(query, mode="native", k=5, depth=depth).hits
        assert [h.ranks["native"] for h in native] == list(range(1, len(native) + 1))
        assert native and [round(h.score, 6) for h in native] == [
            round(f.score, 6) for f in ours[: len(native)]
        ]
        rows = searcher.reader.docstore.chunks_by_vid(f.key for f in ours[: len(native)])
        expected = [rows[f.key].chunk_id for f in ours[: len(native)]]
        got = [h.chunk_id for h in native]
        assert sorted(got) == sorted(expected)  # same chunks; equal scores may swap places

    faiss = settings.model_copy(update={"collection": "plain"})
    with Ingestor(faiss, embedder=embedder, progress=False) as ingestor:
        ingestor.ingest_paths([docs_dir / "overview.md"])
    with pytest.raises(InputError, match="RAGQA_STORE=milvus"):
        open_searcher(faiss).search("x", mode="native")
