"""``ragqa eval retrieval``: ingest a BEIR corpus or SQuAD paragraphs into a cached collection, run the
queries in every mode, and report nDCG@10, Recall@100, MRR@10, hit@1 and search latency."""

from __future__ import annotations

import hashlib
import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ragqa import __version__
from ragqa.config import Settings
from ragqa.errors import InputError
from ragqa.eval.datasets import RetrievalSet, load_beir, load_squad_retrieval
from ragqa.eval.metrics import ranking_metrics
from ragqa.ingest.pipeline import Ingestor
from ragqa.retrieval.docstore import SourceRow
from ragqa.retrieval.searcher import MODES, Mode, Searcher
from ragqa.retrieval.service import open_searcher

_RESULTS = 100
_CHUNK_DEPTH = 300  # chunks per retriever, so that ~100 distinct documents survive grouping


@dataclass(slots=True)
class RetrievalReport:
    dataset: str
    queries: int
    modes: dict[str, dict[str, float]]
    config: dict[str, Any]
    ingest: dict[str, Any]
    path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        best = max(self.modes, key=lambda m: self.modes[m]["ndcg@10"])
        return {
            "kind": "retrieval",
            "dataset": self.dataset,
            "queries": self.queries,
            "modes": self.modes,
            "metrics": {"best_mode": best, **self.modes[best]},
            "ingest": self.ingest,
            "config": self.config,
            **self.extra,
        }

    def table(self) -> str:
        cols = ["ndcg@10", "recall@100", "mrr@10", "hit@1", "p50_ms", "p99_ms"]
        lines = [
            f"{self.dataset}: {self.queries} queries",
            f"{'mode':<8}" + "".join(f"{c:>12}" for c in cols),
        ]
        for mode, m in self.modes.items():
            lines.append(
                f"{mode:<8}"
                + "".join(f"{m[c]:>12.2f}" if c.endswith("_ms") else f"{m[c]:>12.4f}" for c in cols)
            )
        return "\n".join(lines)


def _collection_name(dataset: RetrievalSet, settings: Settings) -> str:
    stat = dataset.corpus_path.stat()
    key = json.dumps(
        [str(dataset.corpus_path.resolve()), stat.st_size, stat.st_mtime_ns, settings.index_fingerprint()],
        sort_keys=True,
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    return f"eval-{dataset.name[:40]}-{digest}".replace("/", "_")


def _ingest(settings: Settings, dataset: RetrievalSet, progress: bool) -> dict[str, Any]:
    with Ingestor(settings, progress=progress) as ingestor:
        if dataset.documents is None:
            report = ingestor.ingest_paths([dataset.corpus_path])
        else:
            data = dataset.corpus_path.read_bytes()
            stat = dataset.corpus_path.stat()
            row = SourceRow(
                str(dataset.corpus_path.resolve()),
                stat.st_size,
                stat.st_mtime_ns,
                hashlib.sha256(data).hexdigest(),
            )
            report = ingestor.ingest_documents(dataset.documents, source=row)
    return report.to_json()


def _prepare_collection(
    settings: Settings, beir: Path | None, squad: Path | None, split: str, progress: bool
) -> tuple[Settings, RetrievalSet, dict[str, Any]]:
    dataset = load_beir(beir, split) if beir is not None else load_squad_retrieval(squad)  # type: ignore[arg-type]
    eval_settings = settings.model_copy(
        update={"collection": _collection_name(dataset, settings), "commit_every": 1_000_000}
    )
    started = time.perf_counter()
    ingest = _ingest(eval_settings, dataset, progress)
    ingest["wall_seconds"] = round(time.perf_counter() - started, 2)
    return eval_settings, dataset, ingest


def collection_for(
    settings: Settings,
    *,
    beir: Path | None = None,
    squad: Path | None = None,
    split: str = "test",
    progress: bool = False,
) -> tuple[Settings, RetrievalSet]:
    """Settings pointing at the dataset's cached eval collection (ingested on first use) and the dataset."""
    eval_settings, dataset, _ = _prepare_collection(settings, beir, squad, split, progress)
    return eval_settings, dataset


def evaluate_mode(
    searcher: Searcher, dataset: RetrievalSet, mode: Mode, progress: bool
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    run: dict[str, dict[str, float]] = {}
    latencies: list[float] = []
    items = list(dataset.queries.items())
    for qid, text in tqdm(items, desc=mode, unit="q", disable=not progress, leave=False):
        t0 = time.perf_counter()
        result = searcher.search(text, mode=mode, k=_RESULTS, depth=_CHUNK_DEPTH, one_per_document=True)
        latencies.append((time.perf_counter() - t0) * 1000)
        run[qid] = {hit.doc_id: float(_RESULTS - rank) for rank, hit in enumerate(result.hits)}
    metrics = ranking_metrics(dataset.qrels, run)
    metrics["p50_ms"] = float(np.percentile(latencies, 50))
    metrics["p99_ms"] = float(np.percentile(latencies, 99))
    return metrics, run


def run_retrieval_eval(
    settings: Settings,
    *,
    beir: Path | None = None,
    squad: Path | None = None,
    split: str = "test",
    mode: str = "all",
    limit: int | None = None,
    out: Path | None = None,
    progress: bool = False,
) -> RetrievalReport:
    if mode != "all" and mode not in (*MODES, "native"):
        raise InputError(f"unknown mode {mode!r}; use bm25, dense, hybrid, native (Milvus) or all")
    eval_settings, dataset, ingest = _prepare_collection(settings, beir, squad, split, progress)
    if limit:
        keep = list(dataset.queries)[:limit]
        dataset = RetrievalSet(
            dataset.name,
            dataset.corpus_path,
            {q: dataset.queries[q] for q in keep},
            {q: dataset.qrels[q] for q in keep},
            dataset.documents,
        )
    searcher = open_searcher(eval_settings)
    searcher.search(next(iter(dataset.queries.values())), mode="hybrid")  # load the model outside the timings
    modes = list(MODES) if mode == "all" else [mode]
    results = {m: evaluate_mode(searcher, dataset, m, progress)[0] for m in modes}  # type: ignore[arg-type]
    config = {
        **settings.index_fingerprint(),
        "fusion_depth": _CHUNK_DEPTH,
        "rrf_k": settings.rrf_k,
        "hnsw_ef_search": settings.hnsw_ef_search,
        "collection": eval_settings.collection,
        "ragqa": __version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    report = RetrievalReport(dataset.name, len(dataset.queries), results, config, ingest)
    out = out or settings.data_dir / "reports" / f"retrieval-{dataset.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir(parents=True, exist_ok=True)
    report.path = out / "report.json"
    report.path.write_text(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    return report
