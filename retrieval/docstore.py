"""The manifest: SQLite tables mapping sources → documents → chunks, plus the committed index generation.

SQLite is the commit point of every ingestion batch: index files for generation N are written first, then
one transaction records the batch's rows together with ``generation = N``.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ragqa.errors import (
    IndexMissingError,
)
from ragqa.retrieval.filters import SearchFilter
from ragqa.retrieval.fsutil import storage_error
from ragqa.retrieval.sqlite_errors import cannot_write_beside, sqlite_error, translated_sqlite
from ragqa.types import Chunk

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources(
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    content_hash TEXT NOT NULL, ingested_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS documents(
    doc_id TEXT PRIMARY KEY, source TEXT NOT NULL, title TEXT NOT NULL, content_hash TEXT NOT NULL,
    n_chunks INTEGER NOT NULL, chars INTEGER NOT NULL, metadata TEXT NOT NULL, ingested_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS documents_source ON documents(source);
CREATE TABLE IF NOT EXISTS chunks(
    vid INTEGER PRIMARY KEY, chunk_id TEXT NOT NULL UNIQUE, doc_id TEXT NOT NULL, ordinal INTEGER NOT NULL,
    text TEXT NOT NULL, context TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    tokens TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
"""


_IN_BATCH = 500  # ids per "IN (...)" query, below SQLite's bound-parameter limit


@dataclass(frozen=True, slots=True)
class StoredChunk:
    vid: int
    chunk_id: str
    doc_id: str
    ordinal: int
    text: str
    context: str
    start: int
    end: int
    title: str
    source: str


@dataclass(frozen=True, slots=True)
class DocumentRow:
    doc_id: str
    source: str
    title: str
    content_hash: str
    n_chunks: int
    chars: int
    metadata: dict[str, Any]
    ingested_at: float


@dataclass(frozen=True, slots=True)
class ChunkSpan:
    chunk_id: str
    ordinal: int
    span: tuple[int, int]  # characters of the document text


@dataclass(frozen=True, slots=True)
class DocumentContent:
    """A document's extracted text as indexed, rebuilt from its chunks (which overlap and cover it; text
    between chunks, white space only, comes back as spaces so every span still points at its characters)."""

    doc_id: str
    title: str
    source: str
    text: str
    chunks: list[ChunkSpan]


@dataclass(frozen=True, slots=True)
class SourceRow:
    path: str
    size: int
    mtime_ns: int
    content_hash: str


@translated_sqlite
class DocStore:
    """Thin typed wrapper over the manifest database (WAL mode: readers never block the writer)."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        try:
            self._db = self._connect(path, readonly)
            if not readonly:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.executescript(_SCHEMA)
            self._db.execute("SELECT 1 FROM meta LIMIT 1").fetchall()
        except OSError as exc:
            raise storage_error(exc, f"opening the collection manifest {path}") from exc
        except sqlite3.DatabaseError as exc:
            if readonly and cannot_write_beside(path):
                # SQLite could not make the WAL index file a reader needs (full disk, read-only mount);
                # nothing can change the manifest there meanwhile, so it is read as immutable.
                log.warning("reading %s as immutable: %s", path, exc)
                self._db = self._connect(path, readonly, immutable=True)
                return
            raise sqlite_error(exc, path) from exc

    @staticmethod
    def _connect(path: Path, readonly: bool, *, immutable: bool = False) -> sqlite3.Connection:
        if not readonly:
            path.parent.mkdir(parents=True, exist_ok=True)
            return sqlite3.connect(path, check_same_thread=False, timeout=30)
        if not path.is_file():
            raise IndexMissingError(f"no collection at {path.parent} — run `ragqa ingest PATH` first")
        frozen = "&immutable=1" if immutable or not os.access(path.parent, os.W_OK) else ""
        return sqlite3.connect(f"file:{path}?mode=ro{frozen}", uri=True, check_same_thread=False, timeout=30)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """All or nothing: an error inside (a full disk at commit included) rolls the whole batch back."""
        try:
            with self._db:
                yield self._db
        except sqlite3.DatabaseError as exc:
            raise sqlite_error(exc, self.path) from exc

    # meta -----------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def generation(self) -> int:
        return int(self.get_meta("generation", "0") or 0)

    @staticmethod
    def set_meta(db: sqlite3.Connection, key: str, value: str) -> None:
        db.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    # sources and documents ------------------------------------------------
    def source(self, path: str) -> SourceRow | None:
        row = self._db.execute(
            "SELECT path, size, mtime_ns, content_hash FROM sources WHERE path=?", (path,)
        ).fetchone()
        return SourceRow(*row) if row else None

    def source_paths(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT path FROM sources ORDER BY path")]

    def _select_in(self, sql: str, keys: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
        """Rows of ``sql`` (with one ``{marks}`` placeholder) for all ``keys``, in batches SQLite accepts."""
        items = list(keys)
        for start in range(0, len(items), _IN_BATCH):
            part = items[start : start + _IN_BATCH]
            yield from self._db.execute(sql.format(marks=",".join("?" * len(part))), part)

    def doc_hashes(self, doc_ids: Sequence[str]) -> dict[str, str]:
        return dict(
            self._select_in("SELECT doc_id, content_hash FROM documents WHERE doc_id IN ({marks})", doc_ids)
        )

    def docs_of_source(self, source: str) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT doc_id FROM documents WHERE source=?", (source,))]

    def document(self, doc_id: str) -> DocumentRow | None:
        row = self._db.execute(
            "SELECT doc_id, source, title, content_hash, n_chunks, chars, metadata, ingested_at FROM documents "
            "WHERE doc_id=?",
            (doc_id,),
        ).fetchone()
        return DocumentRow(*row[:6], json.loads(row[6]), row[7]) if row else None

    def documents(self, *, offset: int = 0, limit: int = 100) -> list[DocumentRow]:
        rows = self._db.execute(
            "SELECT doc_id, source, title, content_hash, n_chunks, chars, metadata, ingested_at FROM documents "
            "ORDER BY doc_id LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [DocumentRow(*r[:6], json.loads(r[6]), r[7]) for r in rows]

    def content(self, doc_id: str) -> DocumentContent | None:
        row = self.document(doc_id)
        if row is None:
            return None
        rows = self._db.execute(
            'SELECT chunk_id, ordinal, start, "end", text FROM chunks WHERE doc_id=? ORDER BY ordinal',
            (doc_id,),
        ).fetchall()
        size = max((end for _, _, _, end, _ in rows), default=0)
        text = [" "] * size
        for _, _, start, end, body in rows:
            text[start:end] = body[: end - start].ljust(end - start)
        spans = [ChunkSpan(chunk_id, ordinal, (start, end)) for chunk_id, ordinal, start, end, _ in rows]
        return DocumentContent(row.doc_id, row.title, row.source, "".join(text), spans)

    def chunk_vids(self, doc_id: str) -> dict[str, int]:
        return dict(self._db.execute("SELECT chunk_id, vid FROM chunks WHERE doc_id=?", (doc_id,)))

    def counts(self) -> dict[str, int]:
        one = self._db.execute
        return {
            "sources": one("SELECT COUNT(*) FROM sources").fetchone()[0],
            "documents": one("SELECT COUNT(*) FROM documents").fetchone()[0],
            "chunks": one("SELECT COUNT(*) FROM chunks").fetchone()[0],
        }

    def iter_tokens(self) -> Iterator[tuple[int, list[str]]]:
        for vid, tokens in self._db.execute("SELECT vid, tokens FROM chunks ORDER BY vid"):
            yield vid, tokens.split(" ") if tokens else []

    def iter_indexed(self) -> Iterator[tuple[str, str]]:
        """(indexed text, doc id) of every chunk, in vector-id order: what the embedder and BM25 saw."""
        for context, text, doc_id in self._db.execute(
            "SELECT context, text, doc_id FROM chunks ORDER BY vid"
        ):
            yield (f"{context}\n{text}" if context else text), doc_id

    def iter_indexed_vids(self) -> Iterator[tuple[int, str]]:
        """(vid, indexed text) of every chunk, in vector-id order (``ragqa repair`` re-embeds these)."""
        for vid, context, text in self._db.execute("SELECT vid, context, text FROM chunks ORDER BY vid"):
            yield vid, (f"{context}\n{text}" if context else text)

    def chunks_by_vid(self, vids: Iterable[int]) -> dict[int, StoredChunk]:
        rows = self._select_in(
            'SELECT c.vid, c.chunk_id, c.doc_id, c.ordinal, c.text, c.context, c.start, c."end", '
            "d.title, d.source FROM chunks c JOIN documents d ON d.doc_id = c.doc_id WHERE c.vid IN ({marks})",
            vids,
        )
        return {r[0]: StoredChunk(*r) for r in rows}

    def vids_where(self, search_filter: SearchFilter) -> np.ndarray:
        """Sorted ids of the chunks whose documents ``search_filter`` permits."""
        columns = "SELECT doc_id, source, metadata FROM documents"
        if search_filter.doc_ids is not None:
            rows: Iterable[tuple[Any, ...]] = self._select_in(
                f"{columns} WHERE doc_id IN ({{marks}})", sorted(search_filter.doc_ids)
            )
        elif search_filter.source_prefix is not None:  # narrowed in SQL; matches() checks exactly
            prefix = search_filter.source_prefix
            rows = self._db.execute(f"{columns} WHERE substr(source, 1, ?) = ?", (len(prefix), prefix))
        else:
            rows = self._db.execute(columns)
        docs = [
            doc_id
            for doc_id, source, metadata in rows
            if search_filter.matches(doc_id, source, json.loads(metadata))
        ]
        vids = [r[0] for r in self._select_in("SELECT vid FROM chunks WHERE doc_id IN ({marks})", docs)]
        return np.unique(np.asarray(vids, dtype=np.int64))

    def doc_of_vids(self, vids: Iterable[int]) -> dict[int, str]:
        return dict(self._select_in("SELECT vid, doc_id FROM chunks WHERE vid IN ({marks})", vids))

    # writes (inside a transaction) ------------------------------------------
    @staticmethod
    def insert_chunks(db: sqlite3.Connection, rows: Sequence[tuple[int, Chunk, list[str]]]) -> None:
        db.executemany(
            'INSERT INTO chunks(vid, chunk_id, doc_id, ordinal, text, context, start, "end", tokens) '
            "VALUES(?,?,?,?,?,?,?,?,?)",
            [
                (vid, c.chunk_id, c.doc_id, c.ordinal, c.text, c.context, c.start, c.end, " ".join(toks))
                for vid, c, toks in rows
            ],
        )

    @staticmethod
    def update_ordinals(db: sqlite3.Connection, rows: Sequence[tuple[int, int, int, int]]) -> None:
        """(ordinal, start, end, vid) for kept chunks whose position in an edited document moved."""
        db.executemany('UPDATE chunks SET ordinal=?, start=?, "end"=? WHERE vid=?', rows)

    @staticmethod
    def delete_vids(db: sqlite3.Connection, vids: Sequence[int]) -> None:
        db.executemany("DELETE FROM chunks WHERE vid=?", [(v,) for v in vids])

    @staticmethod
    def upsert_document(db: sqlite3.Connection, row: DocumentRow) -> None:
        db.execute(
            "INSERT INTO documents(doc_id, source, title, content_hash, n_chunks, chars, metadata, ingested_at) "
            "VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(doc_id) DO UPDATE SET source=excluded.source, "
            "title=excluded.title, content_hash=excluded.content_hash, n_chunks=excluded.n_chunks, "
            "chars=excluded.chars, metadata=excluded.metadata, ingested_at=excluded.ingested_at",
            (
                row.doc_id,
                row.source,
                row.title,
                row.content_hash,
                row.n_chunks,
                row.chars,
                json.dumps(row.metadata, ensure_ascii=False, default=str),
                row.ingested_at,
            ),
        )

    @staticmethod
    def delete_document(db: sqlite3.Connection, doc_id: str) -> None:
        db.execute("DELETE FROM chunks WHERE doc_id=?", (doc_id,))
        db.execute("DELETE FROM documents WHERE doc_id=?", (doc_id,))

    @staticmethod
    def upsert_source(db: sqlite3.Connection, row: SourceRow) -> None:
        db.execute(
            "INSERT INTO sources(path, size, mtime_ns, content_hash, ingested_at) VALUES(?,?,?,?,?) "
            "ON CONFLICT(path) DO UPDATE SET size=excluded.size, mtime_ns=excluded.mtime_ns, "
            "content_hash=excluded.content_hash, ingested_at=excluded.ingested_at",
            (row.path, row.size, row.mtime_ns, row.content_hash, time.time()),
        )

    @staticmethod
    def delete_source(db: sqlite3.Connection, path: str) -> None:
        db.execute("DELETE FROM sources WHERE path=?", (path,))
