"""What the API holds for its lifetime: settings, metrics, the job engine, the searcher and the model."""

from __future__ import annotations

import logging
import threading

import anyio

from ragqa.api.metrics import Metrics
from ragqa.api.security import RateLimiter
from ragqa.config import Settings
from ragqa.generation.answerer import Answerer
from ragqa.generation.backend import GenerationBackend
from ragqa.generation.factory import create_backend
from ragqa.ingest.jobs import Job, JobEngine
from ragqa.retrieval.collection import CollectionReader
from ragqa.retrieval.searcher import Searcher
from ragqa.retrieval.service import open_searcher

log = logging.getLogger(__name__)


class Services:
    def __init__(self, settings: Settings, *, backend: GenerationBackend | None = None) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.limiter = RateLimiter(settings.api_rate_limit)
        self.auth_failures = RateLimiter(settings.api_auth_failures)  # spent by failed authentications
        self.model_slots = anyio.CapacityLimiter(settings.api_model_concurrency)
        self.jobs = JobEngine(settings, on_commit=self._job_finished)
        self._reader: CollectionReader | None = None
        self._searcher: Searcher | None = None
        self._backend = backend
        self._owns_backend = backend is None  # a backend handed in belongs to the caller
        self._answerer: Answerer | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        self.jobs.start()

    def close(self) -> None:
        self.jobs.stop()
        if self._backend is not None and self._owns_backend:
            self._backend.close()

    def _open_reader(self) -> CollectionReader:
        if self._reader is None:
            self._reader = CollectionReader(self.settings)
        else:
            self._reader.refresh()
        return self._reader

    def reader(self) -> CollectionReader:
        """The collection, opened on first use and moved to each newly committed generation; listing and
        fetching documents need only this, not the embedder."""
        with self._lock:
            return self._open_reader()

    def searcher(self) -> Searcher:
        """The collection's searcher (on :meth:`reader`), with its embedder loaded on first use."""
        with self._lock:
            reader = self._open_reader()
            if self._searcher is None:
                self._searcher = open_searcher(self.settings, reader)
            return self._searcher

    def _job_finished(self, job: Job) -> None:
        self.refresh()
        self.metrics.ingested_chunks.inc(job.chunks_written)
        self.metrics.jobs.labels(job.state).inc()

    def update_gauges(self) -> None:
        """Model queue and index size, read when ``/metrics`` is scraped (the index only if already open)."""
        slots = self.model_slots.statistics()
        self.metrics.queue_depth.set(slots.tasks_waiting)
        self.metrics.in_flight.set(slots.borrowed_tokens)
        reader = self._reader
        if reader is not None:
            counts = reader.docstore.counts()
            self.metrics.index_chunks.set(counts["chunks"])
            self.metrics.index_documents.set(counts["documents"])

    def refresh(self) -> None:
        with self._lock:
            if self._reader is not None:
                self._reader.refresh()

    def backend(self) -> GenerationBackend:
        with self._lock:
            if self._backend is None:
                self._backend = create_backend(self.settings)
            return self._backend

    def answerer(self) -> Answerer:
        """One answerer (and policy file read) for the process, on the current searcher."""
        searcher = self.searcher()
        with self._lock:
            if self._answerer is None or self._answerer.retriever is not searcher:
                self._answerer = Answerer(self.settings, searcher, self.backend)
            return self._answerer

    @property
    def backend_loaded(self) -> bool:
        return self._backend is not None
