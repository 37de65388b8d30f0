"""Batch ingestion: files → documents → chunks → embeddings → a committed collection generation.

Unchanged sources are skipped on size+mtime (then content hash) without loading the model; changed documents
replace their chunks, re-embedding only chunk ids that are new; bad files are reported and skipped.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from stat import S_ISREG
from typing import Any

from tqdm import tqdm

from ragqa.config import Settings
from ragqa.errors import DocumentError, InputError
from ragqa.ingest.access import DocumentAccess
from ragqa.ingest.chunker import Chunker
from ragqa.ingest.loaders import LoadLimits, LoadResult, load_file
from ragqa.ingest.walker import discover_files
from ragqa.retrieval.collection import CollectionWriter, StagedDocument
from ragqa.retrieval.docstore import SourceRow
from ragqa.retrieval.embedders import Embedder, choose_embedder, get_embedder
from ragqa.types import Chunk, Document

log = logging.getLogger(__name__)

_EMBED_FLUSH_CHUNKS = 256
_CHUNK_BLOCK_DOCS = 64  # documents chunked per tokenizer call
COMMIT_SHARE = 0.1  # at most this share of ingestion time goes to intermediate commits


def commit_due(
    new_chunks: int, commit_every: int, seconds_since_commit: float, last_commit_seconds: float
) -> bool:
    """An intermediate commit is due after ``commit_every`` new chunks — and, since each commit rewrites the whole
    index, not before the work since the last one is (1 - COMMIT_SHARE) / COMMIT_SHARE times what that commit
    took. Small collections commit every ``commit_every`` chunks; large ones less often, so ingestion stays
    linear in the corpus instead of quadratic."""
    if new_chunks < commit_every:
        return False
    return seconds_since_commit * COMMIT_SHARE >= last_commit_seconds * (1 - COMMIT_SHARE)


def document_hash(doc: Document) -> str:
    return hashlib.sha256(f"{doc.title}\x00{doc.text}".encode()).hexdigest()


@dataclass(slots=True)
class IngestReport:
    files_seen: int = 0
    files_unchanged: int = 0
    files_ingested: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    documents_added: int = 0
    documents_updated: int = 0
    documents_unchanged: int = 0
    documents_deleted: int = 0
    chunks_embedded: int = 0
    generation: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.documents_added or self.documents_updated or self.documents_deleted)

    def to_json(self) -> dict[str, Any]:
        return {
            "files_seen": self.files_seen,
            "files_unchanged": self.files_unchanged,
            "files_ingested": self.files_ingested,
            "failed": [{"path": p, "reason": r} for p, r in self.failed],
            "warnings": [{"path": p, "message": m} for p, m in self.warnings],
            "documents_added": self.documents_added,
            "documents_updated": self.documents_updated,
            "documents_unchanged": self.documents_unchanged,
            "documents_deleted": self.documents_deleted,
            "chunks_embedded": self.chunks_embedded,
            "generation": self.generation,
            "seconds": round(self.seconds, 3),
        }


def _sample_texts(files: Sequence[Path], limits: LoadLimits, limit: int = 20) -> list[str]:
    """Text of up to ``limit`` files spread over the batch, to pick an embedder for a new collection."""
    step = max(1, len(files) // limit)
    texts: list[str] = []
    for path in files[::step][:limit]:
        try:
            if path.is_file() and path.stat().st_size <= 20 * 1024 * 1024:
                texts.extend(d.text for d in load_file(path, path.read_bytes(), limits).documents[:20])
        except (DocumentError, OSError):
            continue
    return texts


@dataclass(slots=True)
class _Pending:
    doc: Document
    content_hash: str
    chunks: list[Chunk]
    to_embed: list[Chunk]
    is_new: bool


class Ingestor:
    """Writes one collection. Use as a context manager; it holds the collection's writer lock."""

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        progress: bool | None = None,
        access: DocumentAccess | None = None,
    ) -> None:
        self.access = access
        self.limits = LoadLimits.from_settings(settings)
        self.writer = CollectionWriter(settings)
        self.settings = self.writer.settings  # an existing collection's index settings, unless set explicitly
        self.progress = sys.stderr.isatty() if progress is None else progress
        self._queue: list[_Pending] = []
        self._queued_chunks = 0
        self._since_commit = 0
        self._committed_at = time.perf_counter()
        self._commit_seconds = 0.0  # what the last intermediate commit took
        self.embedder: Embedder | None = None
        self.chunker: Chunker | None = None
        stored = self.writer.stored_embedder()
        if embedder is not None:
            self._bind(embedder)
        elif settings.embedder != "auto" or stored:
            self._bind(get_embedder(settings, settings.embedder if settings.embedder != "auto" else stored))

    def _bind(self, embedder: Embedder) -> None:
        """Fix the collection's embedder (checked against the one it was built with) and its chunker."""
        self.writer.bind_embedder(embedder.name, embedder.dim)
        self.embedder = embedder
        self.chunker = Chunker(
            embedder.count_tokens,
            embedder.token_offsets,
            max_tokens=min(self.settings.chunk_tokens, embedder.max_tokens),
            overlap=self.settings.chunk_overlap,
        )

    def _bind_for(self, texts: Sequence[str]) -> None:
        if self.embedder is None:
            name = choose_embedder(texts)
            log.info("embedder 'auto' chose %s for collection %r", name, self.settings.collection)
            self._bind(get_embedder(self.settings, name))

    def close(self) -> None:
        self.writer.close()

    def __enter__(self) -> Ingestor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # documents ----------------------------------------------------------------
    def _queue_documents(self, docs: Sequence[Document], report: IngestReport) -> None:
        self._bind_for([d.text for d in docs])
        assert self.chunker is not None
        known = self.writer.docstore.doc_hashes([d.doc_id for d in docs])
        changed: list[tuple[Document, str]] = []
        for doc in docs:
            digest = document_hash(doc)
            if known.get(doc.doc_id) == digest:
                report.documents_unchanged += 1
            else:
                changed.append((doc, digest))
        for start in range(0, len(changed), _CHUNK_BLOCK_DOCS):
            block = changed[start : start + _CHUNK_BLOCK_DOCS]
            for (doc, digest), chunks in zip(
                block, self.chunker.chunk_many([d for d, _ in block]), strict=True
            ):
                if not chunks:
                    report.warnings.append((doc.source, f"document {doc.doc_id}: no text to index"))
                    continue
                existing = self.writer.existing_chunks(doc.doc_id)
                to_embed = [c for c in chunks if c.chunk_id not in existing]
                self._queue.append(_Pending(doc, digest, chunks, to_embed, doc.doc_id not in known))
                self._queued_chunks += len(to_embed)
                if self._queued_chunks >= min(_EMBED_FLUSH_CHUNKS, self.settings.commit_every):
                    self._flush(report)

    def _flush(self, report: IngestReport, *, final: bool = False) -> None:
        texts = [c.indexed_text for p in self._queue for c in p.to_embed]
        vectors = self.embedder.embed_documents(texts) if texts and self.embedder else None
        staged: list[StagedDocument] = []
        offset = 0
        for pending in self._queue:
            by_id = {}
            for chunk in pending.to_embed:
                assert vectors is not None
                by_id[chunk.chunk_id] = vectors[offset]
                offset += 1
            staged.append(StagedDocument(pending.doc, pending.content_hash, pending.chunks, by_id))
            if pending.is_new:
                report.documents_added += 1
            else:
                report.documents_updated += 1
        self.writer.stage_documents(staged)
        report.chunks_embedded += len(texts)
        self._since_commit += len(texts)
        self._queue.clear()
        self._queued_chunks = 0
        now = time.perf_counter()
        if final or commit_due(
            self._since_commit, self.settings.commit_every, now - self._committed_at, self._commit_seconds
        ):
            report.generation = self.writer.commit()
            self._committed_at = time.perf_counter()
            self._commit_seconds = self._committed_at - now
            self._since_commit = 0

    def ingest_documents(
        self,
        documents: Iterable[Document],
        *,
        source: SourceRow | None = None,
        report: IngestReport | None = None,
    ) -> IngestReport:
        """Ingest already-parsed documents (used for SQuAD/BEIR sets and API uploads)."""
        report = report or IngestReport()
        started = time.perf_counter()
        if source is not None:
            known = self.writer.docstore.source(source.path)
            if known is not None and known.content_hash == source.content_hash:
                report.files_unchanged += 1
                report.generation = self.writer.generation
                return report
        docs = list(documents)
        self._queue_documents(docs, report)
        if source is not None:
            gone = set(self.writer.docstore.docs_of_source(source.path)) - {d.doc_id for d in docs}
            for doc_id in sorted(gone):
                report.documents_deleted += self.writer.stage_delete(doc_id)
            self.writer.stage_source(source)
        self._flush(report, final=True)
        report.generation = self.writer.generation
        report.seconds += time.perf_counter() - started
        return report

    # files ----------------------------------------------------------------------
    def _ingest_file(self, path: Path, report: IngestReport) -> None:
        key = str(path)
        parsed = self._read_file(path, report)
        if parsed is None:
            return
        row, result = parsed
        report.warnings.extend((key, w) for w in result.warnings)
        documents = [self.access.apply(d) for d in result.documents] if self.access else result.documents
        self._queue_documents(documents, report)
        gone = set(self.writer.docstore.docs_of_source(key)) - {d.doc_id for d in documents}
        for doc_id in sorted(gone):
            report.documents_deleted += self.writer.stage_delete(doc_id)
        self.writer.stage_source(row)
        report.files_ingested += 1

    def _read_file(self, path: Path, report: IngestReport) -> tuple[SourceRow, LoadResult] | None:
        """Read and parse one file; ``None`` when it is unchanged. Raises :class:`DocumentError` (with the
        reason) for anything wrong with the file itself — never for the collection's own problems."""
        key = str(path)
        try:
            stat = path.stat()
        except OSError as exc:
            raise DocumentError(f"cannot read: {exc.strerror or exc}") from exc
        if not S_ISREG(stat.st_mode):  # a pipe or a device would block or never end
            raise DocumentError("not a regular file")
        known = self.writer.docstore.source(key)
        if known and known.size == stat.st_size and known.mtime_ns == stat.st_mtime_ns:
            report.files_unchanged += 1
            return None
        limit = int(self.settings.max_file_mb * 1024 * 1024)
        if stat.st_size > limit:
            raise DocumentError(
                f"file is {stat.st_size / 1048576:.1f} MB, over the {self.settings.max_file_mb:g} MB limit "
                "(RAGQA_MAX_FILE_MB)"
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DocumentError(f"cannot read: {exc.strerror or exc}") from exc
        digest = hashlib.sha256(data).hexdigest()
        row = SourceRow(key, stat.st_size, stat.st_mtime_ns, digest)
        if known and known.content_hash == digest:
            with self.writer.docstore.transaction() as db:  # touched, not changed: remember the new mtime
                self.writer.docstore.upsert_source(db, row)
            report.files_unchanged += 1
            return None
        return row, load_file(path, data, self.limits)

    def ingest_paths(
        self,
        paths: Sequence[Path],
        *,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        on_file: Callable[[Path, IngestReport], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        allow_missing: bool = False,
        on_start: Callable[[Path], None] | None = None,
        skip: Callable[[Path], str | None] | None = None,
    ) -> IngestReport:
        """Ingest files and folders. ``on_start`` is told each file before it is read, ``on_file`` sees the
        report after it; ``skip`` may give a reason to fail a file without reading it; ``should_stop`` is asked
        between files (what was staged so far is committed); ``allow_missing`` reports vanished paths."""
        started = time.perf_counter()
        missing = [p for p in paths if allow_missing and not Path(p).exists()]
        present = [p for p in paths if p not in missing]
        files = discover_files(present, include=include, exclude=exclude) if present else []
        if not files and not missing:
            raise InputError(f"no supported files found under {', '.join(map(str, paths))}")
        report = IngestReport(files_seen=len(files) + len(missing))
        report.failed.extend((str(p), "file no longer exists") for p in missing)
        if self.embedder is None and files:
            self._bind_for(_sample_texts(files, self.limits))
        bar = tqdm(files, desc="ingest", unit="file", disable=not self.progress, dynamic_ncols=True)
        for path in bar:
            if should_stop is not None and should_stop():
                break
            if skip is not None and (reason := skip(path)):
                report.failed.append((str(path), reason))
            else:
                if on_start is not None:
                    on_start(path)
                try:
                    self._ingest_file(path, report)
                except DocumentError as exc:
                    report.failed.append((str(path), str(exc)))
                    log.warning("skipped %s: %s", path, exc)
            bar.set_postfix(chunks=report.chunks_embedded + self._queued_chunks, failed=len(report.failed))
            if on_file is not None:
                on_file(path, report)
        self._flush(report, final=True)
        report.generation = self.writer.generation
        report.seconds = time.perf_counter() - started
        return report

    # deletes ----------------------------------------------------------------------
    def delete(self, targets: Sequence[str]) -> tuple[list[str], list[str]]:
        """Delete documents by id, or every document of a source path; returns (deleted ids, unknown targets)."""
        deleted: list[str] = []
        unknown: list[str] = []
        docstore = self.writer.docstore
        for target in targets:
            row = docstore.document(target)
            if row is not None:
                self.writer.stage_delete(target)
                self.writer.stage_drop_source(row.source)  # so re-ingesting that source brings it back
                deleted.append(target)
                continue
            path = str(Path(target).expanduser().resolve())
            doc_ids = docstore.docs_of_source(path)
            if not doc_ids and docstore.source(path) is None:
                unknown.append(target)
                continue
            for doc_id in doc_ids:
                self.writer.stage_delete(doc_id)
                deleted.append(doc_id)
            self.writer.stage_drop_source(path)
        self.writer.commit()
        return deleted, unknown
