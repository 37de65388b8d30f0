"""A collection on disk: the manifest plus one published *generation* of index files per commit.

Layout under ``<data_dir>/collections/<name>/``::

    manifest.sqlite          sources, documents, chunks, meta(generation, next_vid, fingerprint)
    index/gen-00000007/      dense/ (vector store files), bm25/, generation.json
    writer.lock              held by the one process that writes

Commit protocol (crash-safe at every step): write ``index/gen-N.tmp`` → fsync → rename to ``gen-N`` →
one SQLite transaction stores the batch's rows and ``generation = N`` → prune old generations. A crash before
the transaction leaves generation N-1 as the committed, loadable state; the orphan ``gen-N`` is removed
by the next writer.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ragqa.config import Settings
from ragqa.errors import CollectionBusyError, IndexCorruptError, IndexMismatchError, IndexMissingError
from ragqa.retrieval.bm25_index import BM25Index
from ragqa.retrieval.docstore import DocStore, DocumentContent, DocumentRow, SourceRow
from ragqa.retrieval.filters import visible
from ragqa.retrieval.fsutil import publish_dir, storage_error
from ragqa.retrieval.integrity import verify, write_manifest
from ragqa.retrieval.lexical import LexicalTokenizer
from ragqa.retrieval.vector_store import VectorStore, create_vector_store, load_vector_store
from ragqa.types import Chunk, Document

log = logging.getLogger(__name__)

MANIFEST = "manifest.sqlite"
_GEN_PREFIX = "gen-"


@dataclass(frozen=True, slots=True)
class StagedDocument:
    """One document to stage: its chunks, and the vectors of the chunks that are new (by chunk id)."""

    doc: Document
    content_hash: str
    chunks: list[Chunk]
    vectors: dict[str, np.ndarray]


@dataclass(slots=True)
class _PendingAdds:
    vids: list[int] = field(default_factory=list)
    vectors: list[np.ndarray] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)


def generation_dir(collection_dir: Path, generation: int) -> Path:
    return collection_dir / "index" / f"{_GEN_PREFIX}{generation:08d}"


def stored_fingerprint(docstore: DocStore) -> dict[str, Any] | None:
    raw = docstore.get_meta("fingerprint")
    return json.loads(raw) if raw else None


def _fingerprint(settings: Settings, embedder: str, dim: int) -> dict[str, Any]:
    return {**settings.index_fingerprint(), "embedder": embedder, "dim": dim}


def _check_fingerprint(docstore: DocStore, settings: Settings, embedder: str, dim: int) -> None:
    expected = stored_fingerprint(docstore)
    if expected is None:
        return
    current = _fingerprint(settings, embedder, dim)
    keys = sorted(current.keys() | expected.keys())
    diff = {k: (expected.get(k), current.get(k)) for k in keys if expected.get(k) != current.get(k)}
    if diff:
        details = ", ".join(f"{k}: index has {a!r}, settings say {b!r}" for k, (a, b) in diff.items())
        raise IndexMismatchError(
            f"collection {settings.collection!r} was built with other settings ({details}); "
            "use those settings, or another collection, or delete the collection folder to rebuild"
        )


@dataclass(slots=True)
class IndexState:
    """What a generation holds in memory: the dense store and the BM25 index."""

    generation: int
    dense: VectorStore | None
    bm25: BM25Index

    @classmethod
    def load(cls, settings: Settings, collection_dir: Path, generation: int) -> IndexState:
        bm25 = BM25Index(k1=settings.bm25_k1, b=settings.bm25_b, method=settings.bm25_method)
        if generation == 0:
            return cls(0, None, bm25)
        gen_dir = generation_dir(collection_dir, generation)
        if not gen_dir.is_dir():
            raise IndexCorruptError(
                f"index generation {generation} is missing at {gen_dir}; the manifest and index files disagree. "
                "Run `ragqa repair` to rebuild the indexes from the manifest."
            )
        verify(gen_dir)
        dense = load_vector_store(settings, gen_dir / "dense")
        return cls(generation, dense, BM25Index.load(gen_dir / "bm25"))


@dataclass(slots=True)
class _Staged:
    documents: dict[str, DocumentRow] = field(default_factory=dict)
    new_chunks: list[tuple[int, Chunk, list[str]]] = field(default_factory=list)
    moved: list[tuple[int, int, int, int]] = field(default_factory=list)
    removed_vids: list[int] = field(default_factory=list)
    removed_docs: list[str] = field(default_factory=list)
    sources: dict[str, SourceRow] = field(default_factory=dict)
    dropped_sources: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.documents or self.removed_docs or self.sources or self.dropped_sources)


class CollectionWriter:
    """The single writer of a collection. Changes are staged in memory and become visible at :meth:`commit`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dir = settings.collection_dir
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._lock_file = open(self.dir / "writer.lock", "a+")  # noqa: SIM115 - held for the writer's lifetime
        except OSError as exc:
            raise storage_error(exc, f"opening collection {settings.collection!r} for writing") from exc
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self._lock_file.seek(0)
            holder = self._lock_file.read().strip() or "another process"
            self._lock_file.close()
            raise CollectionBusyError(
                f"collection {settings.collection!r} is being written by {holder}; wait for it to finish"
            ) from exc
        self._lock_file.seek(0)
        self._lock_file.truncate()
        self._lock_file.write(f"pid {os.getpid()}")
        self._lock_file.flush()
        self.docstore = DocStore(self.dir / MANIFEST)
        self.settings = settings.following_index(stored_fingerprint(self.docstore))
        self.embedder_name: str | None = None
        self.dim = 0
        self.tokenizer = LexicalTokenizer(self.settings.cjk_segmentation)
        self._state: IndexState | None = None
        self._tokens: dict[int, list[str]] | None = None
        self._next_vid = int(self.docstore.get_meta("next_vid", "1") or 1)
        self._staged = _Staged()
        self.generation = self.docstore.generation()
        self._remove_orphans()

    def stored_embedder(self) -> str | None:
        stored = stored_fingerprint(self.docstore)
        return stored.get("embedder") if stored else None

    def bind_embedder(self, name: str, dim: int) -> None:
        """Name the embedder whose vectors this writer adds; refused if the collection was built with another."""
        _check_fingerprint(self.docstore, self.settings, name, dim)
        self.embedder_name, self.dim = name, dim

    # lifecycle --------------------------------------------------------------
    def close(self) -> None:
        self.docstore.close()
        if not self._lock_file.closed:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()

    def __enter__(self) -> CollectionWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _remove_orphans(self) -> None:
        index_dir = self.dir / "index"
        if not index_dir.is_dir():
            return
        for entry in index_dir.iterdir():
            name = entry.name
            if ".tmp" in name or (
                name.startswith(_GEN_PREFIX) and int(name[len(_GEN_PREFIX) :]) > self.generation
            ):
                log.warning("removing uncommitted index files %s (left by an interrupted run)", entry)
                shutil.rmtree(entry, ignore_errors=True)

    @property
    def state(self) -> IndexState:
        """Index state is loaded on first use, so a run that changes nothing never touches the indexes."""
        if self._state is None:
            if self.embedder_name is None:
                raise RuntimeError("bind_embedder() must be called before the index is written")
            self._state = IndexState.load(self.settings, self.dir, self.generation)
            if self._state.dense is None:
                self._state.dense = create_vector_store(self.settings, self.dim)
            self._tokens = dict(self.docstore.iter_tokens())
        return self._state

    # staging ----------------------------------------------------------------
    @property
    def has_pending(self) -> bool:
        return bool(self._staged)

    @property
    def pending_chunks(self) -> int:
        return len(self._staged.new_chunks)

    def existing_chunks(self, doc_id: str) -> dict[str, int]:
        return self.docstore.chunk_vids(doc_id)

    def stage_document(
        self, doc: Document, content_hash: str, chunks: list[Chunk], vectors: dict[str, np.ndarray]
    ) -> None:
        """Replace ``doc``'s chunks: kept chunk ids keep their vectors; ``vectors`` holds the new ones."""
        self.stage_documents([StagedDocument(doc, content_hash, chunks, vectors)])

    def stage_documents(self, items: Sequence[StagedDocument]) -> None:
        """Stage many documents with one vector-index insert for all their new chunks (an HNSW insert call
        per document costs its thread start-up each time)."""
        adds = _PendingAdds()
        for item in items:
            doc_id = item.doc.doc_id
            if doc_id in self._staged.documents or doc_id in self._staged.removed_docs:
                self._insert(adds)  # a document staged twice: publish the first version first
                self.commit()
            self._stage_one(item, adds)
        self._insert(adds)

    def _insert(self, adds: _PendingAdds) -> None:
        if adds.vids:
            assert self.state.dense is not None
            self.state.dense.add(np.asarray(adds.vids, dtype=np.int64), np.stack(adds.vectors), adds.texts)
        adds.vids, adds.vectors, adds.texts = [], [], []

    def _stage_one(self, item: StagedDocument, adds: _PendingAdds) -> None:
        doc, chunks = item.doc, item.chunks
        state = self.state
        old = self.existing_chunks(doc.doc_id)
        new_ids = {c.chunk_id for c in chunks}
        gone = [vid for cid, vid in old.items() if cid not in new_ids]
        for chunk in chunks:
            if chunk.chunk_id in old:
                self._staged.moved.append((chunk.ordinal, chunk.start, chunk.end, old[chunk.chunk_id]))
                continue
            vid = self._next_vid
            self._next_vid += 1
            tokens = self.tokenizer.tokenize(chunk.indexed_text)
            self._staged.new_chunks.append((vid, chunk, tokens))
            assert self._tokens is not None
            self._tokens[vid] = tokens
            adds.vids.append(vid)
            adds.vectors.append(item.vectors[chunk.chunk_id])
            adds.texts.append(chunk.indexed_text)
        assert state.dense is not None
        if gone:
            state.dense.delete(gone)
            for vid in gone:
                self._tokens.pop(vid, None)  # type: ignore[union-attr]
            self._staged.removed_vids.extend(gone)
        self._staged.documents[doc.doc_id] = DocumentRow(
            doc.doc_id,
            doc.source,
            doc.title,
            item.content_hash,
            len(chunks),
            len(doc.text),
            doc.metadata,
            time.time(),
        )

    def stage_delete(self, doc_id: str) -> bool:
        """Remove a document and all its chunks; returns False when there is no such document."""
        vids = list(self.existing_chunks(doc_id).values())
        if self.docstore.document(doc_id) is None and doc_id not in self._staged.documents:
            return False
        if doc_id in self._staged.documents:
            self.commit()
            vids = list(self.existing_chunks(doc_id).values())
        state = self.state
        assert state.dense is not None and self._tokens is not None
        state.dense.delete(vids)
        for vid in vids:
            self._tokens.pop(vid, None)
        self._staged.removed_vids.extend(vids)
        self._staged.removed_docs.append(doc_id)
        return True

    def stage_source(self, row: SourceRow) -> None:
        self._staged.sources[row.path] = row

    def stage_drop_source(self, path: str) -> None:
        self._staged.dropped_sources.append(path)

    # commit -----------------------------------------------------------------
    def commit(self) -> int:
        """Publish staged changes as a new generation; returns the committed generation number."""
        if not self._staged:
            return self.generation
        state = self.state
        assert state.dense is not None and self._tokens is not None
        generation = self.generation + 1
        started = time.perf_counter()
        vids = self._publish(generation, state)
        staged = self._staged
        assert self.embedder_name is not None
        fingerprint = json.dumps(_fingerprint(self.settings, self.embedder_name, self.dim), sort_keys=True)
        with self.docstore.transaction() as db:
            for doc_id in staged.removed_docs:
                DocStore.delete_document(db, doc_id)
            DocStore.delete_vids(db, staged.removed_vids)
            DocStore.insert_chunks(db, staged.new_chunks)
            DocStore.update_ordinals(db, staged.moved)
            for row in staged.documents.values():
                DocStore.upsert_document(db, row)
            for path in staged.dropped_sources:
                DocStore.delete_source(db, path)
            for row in staged.sources.values():
                DocStore.upsert_source(db, row)
            DocStore.set_meta(db, "generation", str(generation))
            DocStore.set_meta(db, "next_vid", str(self._next_vid))
            DocStore.set_meta(db, "fingerprint", fingerprint)
        self.generation = generation
        state.generation = generation
        state.dense.after_commit()
        self._staged = _Staged()
        self._prune(keep_from=generation - 1)
        log.info(
            "committed generation %d: %d chunks (%.2fs)", generation, len(vids), time.perf_counter() - started
        )
        return generation

    def _publish(self, generation: int, state: IndexState) -> list[int]:
        """Build BM25 and write generation ``generation``'s folder (checksummed, fsynced, renamed into place).
        Nothing is committed until the manifest records the generation."""
        assert state.dense is not None and self._tokens is not None
        vids = sorted(self._tokens)
        state.bm25.build(vids, [self._tokens[v] for v in vids])
        final = generation_dir(self.dir, generation)
        tmp = final.with_name(final.name + f".tmp-{os.getpid()}")
        try:
            if tmp.exists():
                shutil.rmtree(tmp)
            state.dense.save(tmp / "dense")
            state.bm25.save(tmp / "bm25")
            write_manifest(tmp, {"generation": generation, "chunks": len(vids)})
            publish_dir(tmp, final)
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)  # a half-written generation never stays behind
            raise storage_error(exc, f"writing index generation {generation}") from exc
        return vids

    def rebuild(self, embed: Callable[[list[str]], np.ndarray], *, progress: bool = False) -> int:
        """``ragqa repair``: rebuild the dense index and BM25 from the chunk texts and tokens in the manifest
        (re-embedding every chunk), and commit them as a new generation. Returns its number."""
        if self.embedder_name is None:
            raise RuntimeError("bind_embedder() must be called before a rebuild")
        vids, texts = [], []
        for vid, text in self.docstore.iter_indexed_vids():
            vids.append(vid)
            texts.append(text)
        dense = create_vector_store(self.settings, self.dim)
        batch = 256
        for start in tqdm(range(0, len(texts), batch), desc="re-embed", unit="batch", disable=not progress):
            ids = np.asarray(vids[start : start + batch], dtype=np.int64)
            dense.add(ids, embed(texts[start : start + batch]), texts[start : start + batch])
        bm25 = BM25Index(k1=self.settings.bm25_k1, b=self.settings.bm25_b, method=self.settings.bm25_method)
        self._state = IndexState(self.generation, dense, bm25)
        self._tokens = dict(self.docstore.iter_tokens())
        generation = self.generation + 1
        self._publish(generation, self._state)
        with self.docstore.transaction() as db:
            DocStore.set_meta(db, "generation", str(generation))
        self.generation = self._state.generation = generation
        dense.after_commit()
        self._prune(keep_from=generation)
        log.info("rebuilt the indexes of %d chunks as generation %d", len(vids), generation)
        return generation

    def _prune(self, keep_from: int) -> None:
        index_dir = self.dir / "index"
        for entry in index_dir.iterdir():
            name = entry.name
            if (
                name.startswith(_GEN_PREFIX)
                and ".tmp" not in name
                and int(name[len(_GEN_PREFIX) :]) < keep_from
            ):
                shutil.rmtree(entry, ignore_errors=True)


class CollectionReader:
    """Read side: the manifest in read-only mode plus the committed generation's indexes, reloaded on change."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dir = settings.collection_dir
        manifest = self.dir / MANIFEST
        if not manifest.is_file():
            raise IndexMissingError(
                f"collection {settings.collection!r} does not exist under {settings.data_dir} — "
                "run `ragqa ingest PATH` first"
            )
        self.docstore = DocStore(manifest, readonly=True)
        if self.docstore.generation() == 0:
            self.docstore.close()
            raise IndexMissingError(
                f"collection {settings.collection!r} has nothing committed yet — an ingestion is running or "
                "was stopped before its first commit; run `ragqa ingest PATH`"
            )
        self.settings = settings.following_index(stored_fingerprint(self.docstore))
        self.state = self._load()

    def _load(self) -> IndexState:
        for attempt in range(3):
            generation = self.docstore.generation()
            try:
                return IndexState.load(self.settings, self.dir, generation)
            except IndexCorruptError:
                if attempt == 2 or self.docstore.generation() == generation:
                    raise
        raise AssertionError("unreachable")

    def verify(self) -> None:
        """Check the loaded generation's files against their checksums again (``/readyz``)."""
        if self.state.generation:
            verify(generation_dir(self.dir, self.state.generation))

    def embedder_name(self) -> str | None:
        stored = stored_fingerprint(self.docstore)
        return stored.get("embedder") if stored else None

    def check_embedder(self, name: str, dim: int) -> None:
        _check_fingerprint(self.docstore, self.settings, name, dim)

    def refresh(self) -> bool:
        """Load a newer committed generation if a writer published one; True when it changed."""
        if self.docstore.generation() == self.state.generation:
            return False
        self.state = self._load()
        return True

    def documents(self, *, offset: int, limit: int) -> list[DocumentRow]:
        return self.docstore.documents(offset=offset, limit=limit)

    def document(self, doc_id: str) -> DocumentRow | None:
        return self.docstore.document(doc_id)

    def content(self, doc_id: str) -> DocumentContent | None:
        return self.docstore.content(doc_id)

    def document_count(self) -> int:
        return self.docstore.counts()["documents"]

    def documents_visible(
        self, groups: frozenset[str] | None, *, offset: int, limit: int
    ) -> tuple[list[DocumentRow], int]:
        """A page of the documents a caller with ``groups`` may see (``None``: all), and how many there are."""
        if groups is None:
            return self.documents(offset=offset, limit=limit), self.document_count()
        seen = [r for r in self.docstore.documents(offset=0, limit=-1) if visible(r.metadata, groups)]
        return seen[offset : offset + limit], len(seen)

    def stats(self) -> dict[str, Any]:
        counts = self.docstore.counts()
        dense = self.state.dense
        return {
            "collection": self.settings.collection,
            "path": str(self.dir),
            "generation": self.state.generation,
            **counts,
            "dense_vectors": len(dense) if dense is not None else 0,
            "bm25_chunks": len(self.state.bm25),
            "fingerprint": stored_fingerprint(self.docstore) or {},
        }

    def close(self) -> None:
        self.docstore.close()
