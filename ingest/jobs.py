"""Persisted ingestion jobs, processed one at a time by a worker thread; shared by the API and the CLI.

A job lists source files. Because ingestion skips unchanged files and replaces changed ones, re-running a job
is safe: a job found ``running`` at start-up (the process died) is queued again and finishes without
duplicates or lost files. The file being read when the process died is counted against that file; a file
that was being read at :data:`MAX_FILE_CRASHES` deaths is given up with a per-file error (a file that kills
the process must not crash-loop the server).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from ragqa.config import Settings
from ragqa.errors import RagqaError, ReadOnlyError
from ragqa.ingest.access import DocumentAccess
from ragqa.retrieval.sqlite_errors import sqlite_error, translated_sqlite

log = logging.getLogger(__name__)

JobState = Literal["queued", "running", "succeeded", "succeeded_with_errors", "failed", "cancelled"]
FINISHED_STATES: frozenset[str] = frozenset({"succeeded", "succeeded_with_errors", "failed", "cancelled"})
MAX_FILE_CRASHES = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs(
    id TEXT PRIMARY KEY, collection TEXT NOT NULL, state TEXT NOT NULL, files TEXT NOT NULL,
    files_total INTEGER NOT NULL, files_done INTEGER NOT NULL DEFAULT 0, chunks_written INTEGER NOT NULL DEFAULT 0,
    errors TEXT NOT NULL DEFAULT '[]', message TEXT NOT NULL DEFAULT '', cancel INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL, started_at REAL, finished_at REAL, attempts INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state);
"""
# Columns added after the first release; older job databases gain them on open.
_ADDED_COLUMNS = {
    "current_file": "TEXT",
    "file_crashes": "TEXT NOT NULL DEFAULT '{}'",
    "owner": "TEXT",  # the API key's name that submitted it (None: the CLI, or a server without keys)
    "access": "TEXT",  # JSON {"acl": [...] | null, "allowed": [...] | null}: see ingest/access.py
}
_COLUMNS = (
    "id, collection, state, files, files_total, files_done, chunks_written, errors, message, cancel, "
    "created_at, started_at, finished_at, attempts, owner, access"
)


PRIVATE_JOB_FIELDS = frozenset({"files", "allowed_groups"})


@dataclass(slots=True)
class Job:
    id: str
    collection: str
    state: JobState
    files: list[str]
    files_total: int
    files_done: int = 0
    chunks_written: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    message: str = ""
    created_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    attempts: int = 0
    owner: str | None = None
    acl: list[str] | None = None  # groups given to every document of the job
    allowed_groups: list[str] | None = None  # groups its documents' acl may name (None: any)

    def to_json(self) -> dict[str, Any]:
        """Every field but ``files`` and ``allowed_groups`` (server-side paths and key details stay private)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in PRIVATE_JOB_FIELDS}

    @property
    def access(self) -> DocumentAccess:
        allowed = frozenset(self.allowed_groups) if self.allowed_groups is not None else None
        return DocumentAccess(tuple(self.acl) if self.acl is not None else None, allowed)


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)


@translated_sqlite
class JobStore:
    """The jobs database. In a data dir that cannot be written it opens read-only (``writable`` False): the
    jobs recorded there can still be listed, and new ones are refused with :class:`ReadOnlyError`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._open(path)
        except sqlite3.DatabaseError as exc:
            raise sqlite_error(exc, path) from exc

    def _open(self, path: Path) -> None:
        self.writable = _writable(path.parent)
        self._lock = threading.Lock()
        if not self.writable:
            uri = f"file:{path}?mode=ro&immutable=1" if path.is_file() else "file::memory:"
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
            if not path.is_file():
                self._db.executescript(_SCHEMA)
                self._add_columns()
            return
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._add_columns()

    def _add_columns(self) -> None:
        present = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
        for name, kind in _ADDED_COLUMNS.items():
            if name not in present:
                self._db.execute(f"ALTER TABLE jobs ADD COLUMN {name} {kind}")

    def _row(self, row: tuple[Any, ...]) -> Job:
        (
            id_,
            collection,
            state,
            files,
            total,
            done,
            chunks,
            errors,
            message,
            _cancel,
            created,
            started,
            finished,
            attempts,
            owner,
            access,
        ) = row
        rules = json.loads(access) if access else {}
        return Job(
            id_,
            collection,
            state,
            json.loads(files),
            total,
            done,
            chunks,
            json.loads(errors),
            message,
            created,
            started,
            finished,
            attempts,
            owner,
            rules.get("acl"),
            rules.get("allowed"),
        )

    def create(
        self,
        collection: str,
        files: Sequence[str],
        *,
        owner: str | None = None,
        access: DocumentAccess | None = None,
    ) -> Job:
        if not self.writable:
            raise ReadOnlyError("the data dir is read-only: documents cannot be added or deleted here")
        access = access or DocumentAccess()
        job = Job(
            uuid.uuid4().hex[:16],
            collection,
            "queued",
            list(files),
            len(files),
            created_at=time.time(),
            owner=owner,
            acl=list(access.acl) if access.acl is not None else None,
            allowed_groups=sorted(access.allowed) if access.allowed is not None else None,
        )
        rules = json.dumps({"acl": job.acl, "allowed": job.allowed_groups})
        with self._lock:
            self._db.execute(
                "INSERT INTO jobs(id, collection, state, files, files_total, created_at, owner, access) "
                "VALUES(?,?,?,?,?,?,?,?)",
                (
                    job.id,
                    collection,
                    job.state,
                    json.dumps(job.files),
                    job.files_total,
                    job.created_at,
                    owner,
                    rules,
                ),
            )
        return job

    def get(self, job_id: str) -> Job | None:
        row = self._db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id=?", (job_id,)).fetchone()
        return self._row(row) if row else None

    def list(
        self, *, limit: int = 50, offset: int = 0, state: str | None = None, owner: str | None = None
    ) -> list[Job]:
        """Newest first; only ``owner``'s jobs when given."""
        conditions = [(c, v) for c, v in (("state=?", state), ("owner=?", owner)) if v is not None]
        where = ("WHERE " + " AND ".join(c for c, _ in conditions)) if conditions else ""
        args = [v for _, v in conditions]
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM jobs {where} ORDER BY created_at DESC LIMIT ? OFFSET ?",
            [*args, limit, offset],
        )
        return [self._row(r) for r in rows]

    def update(self, job_id: str, **values: Any) -> None:
        if "errors" in values:
            values["errors"] = json.dumps(values["errors"], ensure_ascii=False)
        cols = ", ".join(f"{k}=?" for k in values)
        with self._lock:
            self._db.execute(f"UPDATE jobs SET {cols} WHERE id=?", [*values.values(), job_id])

    def request_cancel(self, job_id: str) -> Job | None:
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET cancel=1 WHERE id=? AND state IN ('queued', 'running')", (job_id,)
            )
            self._db.execute(
                "UPDATE jobs SET state='cancelled', finished_at=? WHERE id=? AND state='queued'",
                (time.time(), job_id),
            )
        return self.get(job_id)

    def cancel_requested(self, job_id: str) -> bool:
        row = self._db.execute("SELECT cancel FROM jobs WHERE id=?", (job_id,)).fetchone()
        return bool(row and row[0])

    def claim(self, job_id: str) -> Job:
        with self._lock:
            self._db.execute(
                "UPDATE jobs SET state='running', started_at=?, attempts=attempts+1 WHERE id=?",
                (time.time(), job_id),
            )
        job = self.get(job_id)
        assert job is not None
        return job

    def claim_next(self) -> Job | None:
        """Atomically move the oldest queued job to ``running`` (safe with several server processes)."""
        with self._lock:
            row = self._db.execute(
                "UPDATE jobs SET state='running', started_at=?, attempts=attempts+1, message='' WHERE id = "
                "(SELECT id FROM jobs WHERE state='queued' ORDER BY created_at LIMIT 1) AND state='queued' "
                f"RETURNING {_COLUMNS}",
                (time.time(),),
            ).fetchone()
        return self._row(row) if row else None

    def requeue_interrupted(self) -> int:
        """Queue jobs a dead process left ``running``, counting the death against the file it was reading."""
        if not self.writable:
            return 0
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            rows = self._db.execute(
                "SELECT id, current_file, file_crashes FROM jobs WHERE state='running'"
            ).fetchall()
            for job_id, current, crashes_json in rows:
                crashes = json.loads(crashes_json or "{}")
                if current:
                    crashes[current] = crashes.get(current, 0) + 1
                self._db.execute(
                    "UPDATE jobs SET state='queued', current_file=NULL, file_crashes=? WHERE id=?",
                    (json.dumps(crashes), job_id),
                )
        return len(rows)

    def file_crashes(self, job_id: str) -> dict[str, int]:
        row = self._db.execute("SELECT file_crashes FROM jobs WHERE id=?", (job_id,)).fetchone()
        return json.loads(row[0] or "{}") if row else {}


class JobEngine:
    """Runs queued jobs in a background thread (``start``) or inline (``run_pending``)."""

    def __init__(self, settings: Settings, *, on_commit: Callable[[Job], None] | None = None) -> None:
        self.settings = settings
        self.store = JobStore(settings.data_dir / "jobs.sqlite")
        self.on_commit = on_commit
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_report: Any = None
        self.last_error: RagqaError | None = None
        resumed = self.store.requeue_interrupted()
        if resumed:
            log.warning("resuming %d ingestion job(s) interrupted by a previous shutdown or crash", resumed)

    def submit(
        self,
        files: Sequence[Path],
        *,
        owner: str | None = None,
        access: DocumentAccess | None = None,
        collection: str | None = None,
    ) -> Job:
        job = self.store.create(
            collection or self.settings.collection,
            [str(Path(f).resolve()) for f in files],
            owner=owner,
            access=access,
        )
        self._wake.set()
        return job

    def start(self) -> None:
        if self._thread is None and self.store.writable:
            self._thread = threading.Thread(target=self._loop, name="ragqa-jobs", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the current file: the job is checkpointed (committed files stay) and resumes next start."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not self.run_pending():
                self._wake.wait(1.0)
                self._wake.clear()

    def run_pending(self) -> bool:
        job = self.store.claim_next()
        if job is None:
            return False
        self.run(job)
        return True

    def run_now(
        self, files: Sequence[Path], *, progress: bool = False, access: DocumentAccess | None = None
    ) -> tuple[Job, Any]:
        """Record a job and run it in this thread (``ragqa ingest``); returns the job and its IngestReport."""
        job = self.store.create(
            self.settings.collection, [str(Path(f).resolve()) for f in files], access=access
        )
        claimed = self.store.claim(job.id)
        return self.run(claimed, progress=progress), self.last_report

    def run(self, job: Job, *, progress: bool = False) -> Job:
        from ragqa.ingest.pipeline import Ingestor

        store = self.store
        self.last_report, self.last_error = None, None
        settings = self.settings.model_copy(update={"collection": job.collection})
        errors: list[dict[str, str]] = []
        chunks = 0
        done = 0

        def on_file(path: Path, report: Any) -> None:
            nonlocal done, chunks
            done += 1
            chunks = report.chunks_embedded
            store.update(
                job.id,
                files_done=done,
                chunks_written=chunks,
                errors=[{"path": p, "reason": r} for p, r in report.failed],
            )

        def should_stop() -> bool:
            return self._stop.is_set() or store.cancel_requested(job.id)

        crashes = store.file_crashes(job.id)

        def on_start(path: Path) -> None:  # so a restart knows which file the process died on
            store.update(job.id, current_file=str(path))

        def skip(path: Path) -> str | None:
            if crashes.get(str(path), 0) >= MAX_FILE_CRASHES:
                return (
                    f"gave up: the server died {crashes[str(path)]} times while reading this file "
                    "(too large to parse, or a decompression bomb?)"
                )
            return None

        try:
            with Ingestor(settings, progress=progress, access=job.access) as ingestor:
                report = ingestor.ingest_paths(
                    [Path(f) for f in job.files],
                    on_file=on_file,
                    should_stop=should_stop,
                    allow_missing=True,
                    on_start=on_start,
                    skip=skip,
                )
            self.last_report = report
            errors = [{"path": p, "reason": r} for p, r in report.failed]
            if self._stop.is_set() and not store.cancel_requested(job.id):
                store.update(job.id, state="queued", message="interrupted by shutdown; will resume")
            elif store.cancel_requested(job.id):
                store.update(
                    job.id,
                    state="cancelled",
                    finished_at=time.time(),
                    errors=errors,
                    message=f"cancelled after {report.files_seen} file(s)",
                )
            else:
                store.update(
                    job.id,
                    state="succeeded_with_errors" if errors else "succeeded",
                    current_file=None,
                    finished_at=time.time(),
                    files_done=job.files_total,
                    chunks_written=report.chunks_embedded,
                    errors=errors,
                    message=f"{report.documents_added} added, {report.documents_updated} updated, "
                    f"{report.documents_unchanged} unchanged, {len(errors)} failed",
                )
        except RagqaError as exc:
            self.last_error = exc
            with contextlib.suppress(sqlite3.Error):  # the jobs database may sit on the same full disk
                store.update(job.id, state="failed", finished_at=time.time(), message=str(exc), errors=errors)
        except Exception as exc:  # a bug must not kill the worker thread
            log.error("job %s crashed: %s: %s", job.id, type(exc).__name__, exc)
            log.debug("traceback of job %s", job.id, exc_info=True)
            with contextlib.suppress(sqlite3.Error):
                store.update(
                    job.id, state="failed", finished_at=time.time(), message=f"internal error: {exc}"
                )
        result = store.get(job.id)
        assert result is not None
        if self.on_commit is not None:
            self.on_commit(result)
        return result
