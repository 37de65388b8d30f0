"""Milvus vector store (``pymilvus.MilvusClient``): Milvus Lite for a local ``.db`` file, or a server.

Same interface as the FAISS store. The vectors live in Milvus, not in the generation folder, so writes are
ordered around the manifest commit: inserts are upserted by ``save`` (before the SQLite transaction; a crash
leaves rows whose ids the manifest never references, and those ids are reused and overwritten by the next
run), deletes are applied by ``after_commit`` (after it; a crash leaves orphans that searches filter out).

Milvus Lite keeps M / efConstruction only when nested as ``params={"params": {...}}`` — done here, and a test
reads the built index back to prove it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ragqa.config import Settings
from ragqa.errors import (
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    VectorStoreError,
    VectorStoreUnavailableError,
)
from ragqa.retrieval.vector_store import VectorStore

log = logging.getLogger(__name__)

_PARAMS_FILE = "params.json"
_BATCH = 1000


def _collection_name(settings: Settings) -> str:
    return "ragqa_" + "".join(ch if ch.isalnum() else "_" for ch in settings.collection)


def _uri(settings: Settings) -> str:
    return settings.milvus_uri or str((settings.data_dir / "milvus.db").resolve())


class _GuardedClient:
    """The Milvus client with every call's ``MilvusException`` turned into a ragqa error with a code, so the
    CLI prints one line and the API answers JSON instead of a traceback."""

    def __init__(self, client: Any, uri: str) -> None:
        self._client, self._uri = client, uri

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)
        if not callable(method):
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            from pymilvus.exceptions import MilvusException

            try:
                return method(*args, **kwargs)
            except MilvusException as exc:
                raise VectorStoreError(f"Milvus at {self._uri} refused {name}: {exc.message}") from exc

        return call


def _ensure_loaded(client: Any, name: str) -> None:
    """A collection opened by a new process is 'released' until loaded; search needs it loaded (Lite and server)."""
    from pymilvus.client.types import LoadState

    state = client.get_load_state(name).get("state")
    if state != LoadState.Loaded:
        client.load_collection(name)


def _client(settings: Settings) -> Any:
    from pymilvus import MilvusClient
    from pymilvus.exceptions import MilvusException

    uri = _uri(settings)
    if not uri.startswith(("http://", "https://", "tcp://")):
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
        # Milvus Lite's in-process gRPC server logs an ERROR with a traceback for each call it does not
        # implement (AllocTimestamp during upserts); pymilvus falls back, so these are noise, not failures.
        logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
    kwargs: dict[str, Any] = {"uri": uri}
    if settings.milvus_token:
        kwargs["token"] = settings.milvus_token.get_secret_value()
    if settings.milvus_db:
        kwargs["db_name"] = settings.milvus_db
    try:
        return _GuardedClient(MilvusClient(**kwargs), uri)
    except (MilvusException, OSError, RuntimeError) as exc:
        raise VectorStoreUnavailableError(f"Milvus at {uri} is unreachable: {exc}") from exc


class MilvusStore(VectorStore):
    """Vectors plus the chunk text: Milvus's BM25 function indexes the text, so ``native_hybrid`` can fuse
    dense and BM25 inside Milvus (``hybrid_search`` with ``RRFRanker(60)``)."""

    def __init__(self, client: Any, name: str, dim: int, *, ef_search: int, settings: Settings | None = None):
        self.client, self.name, self.dim, self.ef_search = client, name, dim, ef_search
        self._settings = settings  # set while the collection is not created yet
        self._pending_add: dict[int, tuple[np.ndarray, str]] = {}
        self._pending_delete: set[int] = set()
        self._count: int | None = None

    @classmethod
    def create(cls, settings: Settings, dim: int) -> MilvusStore:
        client = _client(settings)
        name = _collection_name(settings)
        if client.has_collection(name):
            existing = cls._dim_of(client, name)
            if existing != dim:
                raise IndexMismatchError(
                    f"Milvus collection {name} holds {existing}-dimensional vectors; "
                    f"the embedder makes {dim}-dimensional ones"
                )
            _ensure_loaded(client, name)
            return cls(client, name, dim, ef_search=settings.hnsw_ef_search)
        # created at the first save, when the text shows which BM25 analyzer fits (jieba for Chinese)
        return cls(client, name, dim, ef_search=settings.hnsw_ef_search, settings=settings)

    def _create_collection(self, sample: Sequence[str]) -> None:
        from pymilvus import DataType, Function, FunctionType, MilvusClient

        from ragqa.retrieval.embedders import MULTILINGUAL, choose_embedder

        settings = self._settings
        assert settings is not None
        tokenizer = "jieba" if choose_embedder(sample) == MULTILINGUAL else "standard"
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("vid", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.dim)
        schema.add_field(
            "text",
            DataType.VARCHAR,
            max_length=65535,
            enable_analyzer=True,
            analyzer_params={"tokenizer": tokenizer, "filter": ["lowercase"]},
        )
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(
            Function(
                name="bm25",
                function_type=FunctionType.BM25,
                input_field_names=["text"],
                output_field_names=["sparse"],
            )
        )
        index = self.client.prepare_index_params()
        index.add_index(
            field_name="vector",
            index_type="HNSW",
            metric_type="IP",
            params={"params": {"M": settings.hnsw_m, "efConstruction": settings.hnsw_ef_construction}},
        )
        index.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        self.client.create_collection(self.name, schema=schema, index_params=index)
        self._settings = None
        log.info(
            "created Milvus collection %s (dim %d, HNSW M=%d efC=%d, BM25 %s tokenizer) at %s",
            self.name,
            self.dim,
            settings.hnsw_m,
            settings.hnsw_ef_construction,
            tokenizer,
            _uri(settings),
        )

    @staticmethod
    def _dim_of(client: Any, name: str) -> int:
        for field in client.describe_collection(name)["fields"]:
            if field["name"] == "vector":
                return int(field["params"]["dim"])
        raise IndexCorruptError(f"Milvus collection {name} has no vector field")

    @classmethod
    def load(cls, settings: Settings, directory: Path) -> MilvusStore:
        try:
            params = json.loads((directory / _PARAMS_FILE).read_text())
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(f"dense index description at {directory} is unreadable: {exc}") from exc
        client = _client(settings)
        name = params["collection"]
        if not client.has_collection(name):
            raise IndexMissingError(
                f"Milvus collection {name} is missing at {_uri(settings)}; re-ingest to rebuild"
            )
        _ensure_loaded(client, name)
        return cls(client, name, int(params["dim"]), ef_search=settings.hnsw_ef_search)

    @property
    def exists(self) -> bool:
        return self._settings is None

    def index_params(self) -> dict[str, Any]:
        return dict(self.client.describe_index(self.name, "vector"))

    # writes ---------------------------------------------------------------
    def add(self, ids: np.ndarray, vectors: np.ndarray, texts: Sequence[str] | None = None) -> None:
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise IndexMismatchError(f"vectors have dimension {vectors.shape[-1]}, the index has {self.dim}")
        texts = list(texts) if texts is not None else [""] * len(vectors)
        for vid, vector, text in zip(np.asarray(ids, dtype=np.int64).tolist(), vectors, texts, strict=True):
            self._pending_add[vid] = (vector, text[:60000])
            self._pending_delete.discard(vid)

    def delete(self, ids: Sequence[int]) -> None:
        for vid in ids:
            if self._pending_add.pop(int(vid), None) is None:
                self._pending_delete.add(int(vid))

    def save(self, directory: Path) -> None:
        if not self.exists:
            self._create_collection([text for _, text in self._pending_add.values()][:200])
        rows = [
            {"vid": vid, "vector": vec.tolist(), "text": text}
            for vid, (vec, text) in self._pending_add.items()
        ]
        for start in range(0, len(rows), _BATCH):
            self.client.upsert(self.name, rows[start : start + _BATCH])
        if rows:
            self.client.flush(self.name)
        self._pending_add.clear()
        self._count = None
        directory.mkdir(parents=True, exist_ok=True)
        params = {"backend": "milvus", "collection": self.name, "dim": self.dim}
        (directory / _PARAMS_FILE).write_text(json.dumps(params))

    def after_commit(self) -> None:
        if self._pending_delete and self.exists:
            ids = sorted(self._pending_delete)
            for start in range(0, len(ids), _BATCH):
                self.client.delete(self.name, ids=ids[start : start + _BATCH])
            self._pending_delete.clear()
            self._count = None

    # reads ----------------------------------------------------------------
    def __len__(self) -> int:
        if not self.exists:
            return len(self._pending_add)
        if self._count is None:
            rows = self.client.query(self.name, filter="", output_fields=["count(*)"])
            self._count = int(rows[0]["count(*)"]) if rows else 0
        return self._count + len(self._pending_add)

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        scores = np.zeros((len(queries), k), np.float32)
        ids = np.full((len(queries), k), -1, np.int64)
        if k <= 0 or not self.exists or (allowed is not None and not len(allowed)):
            return scores, ids
        results = self.client.search(
            self.name,
            data=queries.tolist(),
            limit=k,
            anns_field="vector",
            search_params={"metric_type": "IP", "params": {"ef": max(self.ef_search, k)}},
            **vid_filter(allowed),
        )
        for row, hits in enumerate(results):
            for col, hit in enumerate(hits[:k]):
                ids[row, col] = int(hit["vid"])
                scores[row, col] = float(hit["distance"])
        return scores, ids


def drop_collection(settings: Settings) -> None:
    """Remove the collection's vectors from Milvus (deleting a collection)."""
    client = _client(settings)
    name = _collection_name(settings)
    if client.has_collection(name):
        client.drop_collection(name)


def vid_filter(allowed: np.ndarray | None) -> dict[str, str]:
    """A Milvus boolean expression keeping the ``allowed`` vids (applied by Milvus during the search)."""
    return {} if allowed is None else {"filter": f"vid in [{','.join(map(str, allowed.tolist()))}]"}


def _hits(results: Any) -> list[tuple[int, float]]:
    return [(int(hit["vid"]), float(hit["distance"])) for hit in (results[0] if results else [])]


def native_bm25(store: MilvusStore, query: str, k: int) -> list[tuple[int, float]]:
    """Milvus's own BM25 ranking of the chunk text (Lite returns the scores negated; the order is best first)."""
    if not store.exists:
        return []
    return _hits(
        store.client.search(
            store.name, data=[query], anns_field="sparse", limit=k, search_params={"metric_type": "BM25"}
        )
    )


def native_hybrid(
    store: MilvusStore,
    query: str,
    vector: np.ndarray,
    k: int,
    *,
    depth: int,
    rrf_k: int,
    allowed: np.ndarray | None = None,
) -> list[tuple[int, float]]:
    """Dense + BM25 fused inside Milvus with ``RRFRanker(rrf_k)`` (each list ``depth`` deep)."""
    from pymilvus import AnnSearchRequest, RRFRanker

    if not store.exists or (allowed is not None and not len(allowed)):
        return []
    expr = vid_filter(allowed).get("filter")
    dense = AnnSearchRequest(
        data=[np.asarray(vector, dtype=np.float32).tolist()],
        anns_field="vector",
        param={"metric_type": "IP", "params": {"ef": max(store.ef_search, depth)}},
        limit=depth,
        expr=expr,
    )
    lexical = AnnSearchRequest(
        data=[query], anns_field="sparse", param={"metric_type": "BM25"}, limit=depth, expr=expr
    )
    return _hits(store.client.hybrid_search(store.name, [dense, lexical], ranker=RRFRanker(rrf_k), limit=k))
