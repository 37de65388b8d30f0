"""Prometheus metrics, named per the Prometheus conventions (base units, ``_total`` counters): HTTP requests and
latency per endpoint, pipeline stages, time to first token, answers by outcome and refusal reason, tokens,
ingestion, the model queue and the index size; plus the process and Python collectors.

With ``ragqa serve --workers N`` each worker is its own process: ``PROMETHEUS_MULTIPROC_DIR`` (set by the CLI)
makes every worker write its samples there, and ``/metrics`` from any worker reports the sum over all of them.
"""

from __future__ import annotations

import os

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "ragqa_http_requests_total", "HTTP requests", ["endpoint", "method", "status"], registry=r
        )
        self.latency = Histogram(
            "ragqa_http_request_duration_seconds",
            "HTTP request latency",
            ["endpoint"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "ragqa_http_errors_total", "Error responses by HTTP status", ["status"], registry=r
        )
        self.stages = Histogram(
            "ragqa_stage_duration_seconds",
            "Pipeline stage latency",
            ["stage"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.ttft = Histogram(
            "ragqa_time_to_first_token_seconds",
            "Streamed answers: request start to the first generated token",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.answers = Counter(
            "ragqa_answers_total",
            "Answers by status and refusal reason ('' = answered)",
            ["status", "refusal"],
            registry=r,
        )
        self.tokens = Counter("ragqa_generated_tokens_total", "Tokens generated", registry=r)
        self.ingested_chunks = Counter(
            "ragqa_ingested_chunks_total", "Chunks embedded by ingestion jobs", registry=r
        )
        self.jobs = Counter(
            "ragqa_ingestion_jobs_total", "Ingestion jobs finished, by state", ["state"], registry=r
        )
        self.queue_depth = Gauge(
            "ragqa_model_queue_depth",
            "Requests waiting for a model slot (API_MODEL_CONCURRENCY)",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.in_flight = Gauge(
            "ragqa_model_slots_in_use", "Model slots busy", registry=r, multiprocess_mode="livesum"
        )
        self.index_chunks = Gauge(
            "ragqa_index_chunks", "Chunks in the served collection", registry=r, multiprocess_mode="max"
        )
        self.index_documents = Gauge(
            "ragqa_index_documents", "Documents in the served collection", registry=r, multiprocess_mode="max"
        )
        if not multiprocess():  # these read this process only, so they make no sense summed over workers
            for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
                r.register(collector)

    def observe_stages(self, timings_ms: dict[str, float]) -> None:
        for stage, ms in timings_ms.items():
            if stage == "ttft":
                self.ttft.observe(ms / 1000)
            elif stage != "tokens_per_s":
                self.stages.labels(stage.removeprefix("retrieval_")).observe(ms / 1000)

    def render(self) -> bytes:
        if multiprocess():
            merged = CollectorRegistry()
            MultiProcessCollector(merged)
            return generate_latest(merged)
        return generate_latest(self.registry)
