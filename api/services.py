"""What the API holds for its lifetime: settings, metrics, the job engine, the searcher and the model."""

from __future__ import annotations

import logging
import math
import statistics
import threading
import time
from collections import deque
from dataclasses import dataclass

import anyio

from ragqa.api.metrics import Metrics
from ragqa.api.security import RateLimiter
from ragqa.config import Settings
from ragqa.errors import GenerationError, RagqaError
from ragqa.generation.answerer import Answerer
from ragqa.generation.backend import GenerationBackend
from ragqa.generation.factory import create_backend
from ragqa.ingest.jobs import Job, JobEngine
from ragqa.retrieval.catalog import describe
from ragqa.retrieval.collection import CollectionReader
from ragqa.retrieval.searcher import Searcher
from ragqa.retrieval.service import open_searcher
from ragqa.types import EMBEDDED_BACKENDS

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Opened:
    """One collection as the API holds it: its reader, and its searcher and answerer once used."""

    settings: Settings
    reader: CollectionReader
    searcher: Searcher | None = None
    answerer: Answerer | None = None


class Services:
    def __init__(self, settings: Settings, *, backend: GenerationBackend | None = None) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.limiter = RateLimiter(settings.api_rate_limit)
        self.auth_failures = RateLimiter(settings.api_auth_failures)  # spent by failed authentications
        self.model_slots = anyio.CapacityLimiter(settings.api_model_concurrency)
        self.answer_seconds: deque[float] = deque(maxlen=20)  # recent answers, for Retry-After
        self.jobs = JobEngine(settings, on_commit=self._job_finished)
        self._open: dict[str, _Opened] = {}
        self._backend = backend
        self._owns_backend = backend is None  # a backend handed in belongs to the caller
        self._lock = threading.Lock()
        # held for minutes while a model exports, so not the lock the searchers and readers take
        self._backend_lock = threading.Lock()
        self._preloading: threading.Thread | None = None
        self.preload_error: RagqaError | None = None  # why the background load failed (readiness shows it)
        self._closed = False

    def model_wait(self) -> int | None:
        """``None`` when an answer may queue for a model thread; else the seconds to suggest in Retry-After
        (the queue of ``API_MODEL_QUEUE`` is full): the recent median answer time × the answers ahead / threads."""
        slots = self.model_slots.statistics()
        if slots.borrowed_tokens < slots.total_tokens or slots.tasks_waiting < self.settings.api_model_queue:
            return None
        typical = statistics.median(self.answer_seconds) if self.answer_seconds else 10.0
        ahead = slots.tasks_waiting + 1
        return max(1, math.ceil(typical * ahead / self.settings.api_model_concurrency))

    def start(self) -> None:
        self.jobs.start()
        embedded = self.settings.llm_backend in EMBEDDED_BACKENDS
        if self._backend is None and embedded and self.settings.api_preload_model:
            self._preloading = threading.Thread(target=self._preload, name="ragqa-model-preload", daemon=True)
            self._preloading.start()

    def _preload(self) -> None:
        """Load the answer model while the server already serves; a failure is logged here and raised again,
        with its code, to the first question (which tries once more)."""
        started = time.perf_counter()
        log.info("loading the answer model in the background (%s backend)", self.settings.llm_backend)
        try:
            backend = self.backend()
        except Exception as exc:  # a daemon thread: what went wrong goes to the log and to readiness
            error = (
                exc if isinstance(exc, RagqaError) else GenerationError(f"loading the model failed: {exc}")
            )
            log.error("the answer model could not be loaded: %s (%s)", error, error.code)
            self.preload_error = error
            return
        log.info("answer model ready in %.1f s", time.perf_counter() - started)
        if self._closed:  # the server stopped while the model loaded
            backend.close()
            return
        try:  # the collection's index and embedder too, which the first question would otherwise wait for
            self.searcher()
        except RagqaError as exc:  # nothing ingested yet, say: the first search reports it
            log.info("the collection is not opened yet: %s", exc)

    @property
    def preloading(self) -> bool:
        return self._preloading is not None and self._preloading.is_alive()

    def close(self) -> None:
        self._closed = True
        self.jobs.stop()
        if self._backend is not None and self._owns_backend:
            self._backend.close()

    def settings_for(self, collection: str | None) -> Settings:
        """The settings of ``collection`` (``None``: the server's own); 422 for a name that cannot be one."""
        return self.settings.for_collection(collection) if collection else self.settings

    def _opened(self, collection: str | None) -> _Opened:
        settings = self.settings_for(collection)
        opened = self._open.get(settings.collection)
        if opened is None:
            opened = self._open[settings.collection] = _Opened(settings, CollectionReader(settings))
        else:
            opened.reader.refresh()
        return opened

    def reader(self, collection: str | None = None) -> CollectionReader:
        """The collection, opened on first use and moved to each newly committed generation; listing and
        fetching documents need only this, not the embedder."""
        with self._lock:
            return self._opened(collection).reader

    def _searcher(self, opened: _Opened) -> Searcher:
        if opened.searcher is None:
            opened.searcher = open_searcher(opened.settings, opened.reader)
        return opened.searcher

    def searcher(self, collection: str | None = None) -> Searcher:
        """The collection's searcher (on :meth:`reader`), with its embedder loaded on first use."""
        with self._lock:
            return self._searcher(self._opened(collection))

    def answerer(self, collection: str | None = None) -> Answerer:
        """One answerer (and policy file read) per collection, on its searcher."""
        with self._lock:
            opened = self._opened(collection)
            if opened.answerer is None:
                opened.answerer = Answerer(opened.settings, self._searcher(opened), self.backend)
            return opened.answerer

    def created_empty(self, collection: str) -> bool:
        """A collection made by ``POST /v1/collections`` with nothing committed yet (it reads as empty; the
        server's own collection before its first ingestion stays ``index_missing``)."""
        if collection == self.settings.collection or collection in self._open:  # opened = committed
            return False
        return describe(self.settings_for(collection)).generation == 0

    def forget(self, collection: str) -> None:
        """Drop what is held for ``collection`` (it was deleted)."""
        with self._lock:
            opened = self._open.pop(collection, None)
        if opened is not None:
            opened.reader.close()

    def _job_finished(self, job: Job) -> None:
        self.refresh()
        self.metrics.ingested_chunks.inc(job.chunks_written)
        self.metrics.jobs.labels(job.state).inc()

    def update_gauges(self) -> None:
        """Model queue and index size, read when ``/metrics`` is scraped (the server's collection, if open)."""
        slots = self.model_slots.statistics()
        self.metrics.queue_depth.set(slots.tasks_waiting)
        self.metrics.in_flight.set(slots.borrowed_tokens)
        opened = self._open.get(self.settings.collection)
        if opened is not None:
            counts = opened.reader.docstore.counts()
            self.metrics.index_chunks.set(counts["chunks"])
            self.metrics.index_documents.set(counts["documents"])

    def refresh(self) -> None:
        with self._lock:
            for opened in self._open.values():
                opened.reader.refresh()

    def backend(self) -> GenerationBackend:
        with self._backend_lock:
            if self._backend is None:
                self._backend = create_backend(self.settings)
            return self._backend

    @property
    def backend_loaded(self) -> bool:
        return self._backend is not None
