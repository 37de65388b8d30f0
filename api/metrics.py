"""Prometheus metrics: requests and latency per endpoint, pipeline stages, tokens, ingestion, errors."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ragqa_requests_total", "HTTP requests", ["endpoint", "method", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "ragqa_request_seconds",
            "HTTP request latency",
            ["endpoint"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.stages = Histogram(
            "ragqa_stage_seconds",
            "Pipeline stage latency",
            ["stage"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.tokens = Counter("ragqa_generated_tokens_total", "Tokens generated", registry=self.registry)
        self.ingested_chunks = Counter(
            "ragqa_ingested_chunks_total", "Chunks embedded by ingestion jobs", registry=self.registry
        )
        self.errors = Counter("ragqa_errors_total", "Error responses", ["code"], registry=self.registry)

    def observe_stages(self, timings_ms: dict[str, float]) -> None:
        for stage, ms in timings_ms.items():
            if stage != "tokens_per_s":
                self.stages.labels(stage.removeprefix("retrieval_")).observe(ms / 1000)

    def render(self) -> bytes:
        return generate_latest(self.registry)
