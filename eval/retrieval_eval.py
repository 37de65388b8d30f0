"""``ragqa eval retrieval``: ingest a BEIR corpus or SQuAD paragraphs into a cached collection, run the
queries in every mode, and report nDCG@10, Recall@100, MRR@10, hit@1 and search latency."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ragqa.config import Settings
from ragqa.errors import InputError
from ragqa.eval.datasets import RetrievalSet, load_beir, load_squad_retrieval
from ragqa.eval.metrics import query_ndcg, ranking_metrics
from ragqa.eval.report import Report, Table
from ragqa.hashing import file_sha256
from ragqa.ingest.pipeline import Ingestor
from ragqa.retrieval.docstore import SourceRow
from ragqa.retrieval.searcher import MODES, Mode, Searcher
from ragqa.retrieval.service import open_searcher

_RESULTS = 100
_CHUNK_DEPTH = 300  # chunks per retriever, so that ~100 distinct documents survive grouping


def _modes_table(modes: dict[str, dict[str, float]]) -> Table:
    cols = ["ndcg@10", "recall@100", "mrr@10", "hit@1", "p50_ms", "p99_ms"]
    return Table("Modes", ["mode", *cols], [[mode, *(m[c] for c in cols)] for mode, m in modes.items()])


def _collection_name(dataset: RetrievalSet, settings: Settings, corpus_digest: str) -> str:
    """Keyed by the corpus file's bytes (not its path or mtime: a data set copied again, byte for byte, keeps
    its cached collection) and by everything that shapes the index."""
    key = json.dumps([corpus_digest, settings.index_fingerprint()], sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    return f"eval-{dataset.name[:40]}-{digest}".replace("/", "_")


def _ingest(settings: Settings, dataset: RetrievalSet, corpus_digest: str, progress: bool) -> dict[str, Any]:
    with Ingestor(settings, progress=progress) as ingestor:
        if dataset.documents is None:
            report = ingestor.ingest_paths([dataset.corpus_path])
        else:
            stat = dataset.corpus_path.stat()
            row = SourceRow(
                str(dataset.corpus_path.resolve()),
                stat.st_size,
                stat.st_mtime_ns,
                corpus_digest,
            )
            report = ingestor.ingest_documents(dataset.documents, source=row)
    return report.to_json()


def _prepare_collection(
    settings: Settings, beir: Path | None, squad: Path | None, split: str, progress: bool
) -> tuple[Settings, RetrievalSet, dict[str, Any]]:
    dataset = load_beir(beir, split) if beir is not None else load_squad_retrieval(squad)  # type: ignore[arg-type]
    corpus_digest = file_sha256(dataset.corpus_path)  # names the collection and marks its source unchanged
    eval_settings = settings.model_copy(
        update={"collection": _collection_name(dataset, settings, corpus_digest), "commit_every": 1_000_000}
    )
    started = time.perf_counter()
    ingest = _ingest(eval_settings, dataset, corpus_digest, progress)
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
) -> tuple[dict[str, float], dict[str, dict[str, float]], list[float]]:
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
    return metrics, run, latencies


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
) -> Report:
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
    results: dict[str, dict[str, float]] = {}
    latency: dict[str, list[float]] = {}
    per_query: dict[str, dict[str, float]] = {}
    for m in modes:
        results[m], run, latency[m] = evaluate_mode(searcher, dataset, m, progress)  # type: ignore[arg-type]
        for qid, score in query_ndcg(dataset.qrels, run).items():
            per_query.setdefault(qid, {})[m] = score
    best = max(results, key=lambda m: results[m]["ndcg@10"])
    config = {
        **settings.index_fingerprint(),
        "fusion_depth": _CHUNK_DEPTH,
        "rrf_k": settings.rrf_k,
        "hnsw_ef_search": settings.hnsw_ef_search,
        "collection": eval_settings.collection,
        "queries": len(dataset.queries),
    }
    report = Report(
        kind="retrieval",
        dataset=dataset.name,
        metrics={"best_mode": best, **results[best]},
        config=config,
        tables=[_modes_table(results)],
        distributions={
            f"nDCG@10 per query, {m}": [q[m] for q in per_query.values() if m in q] for m in modes
        },
        latency_ms={f"search, {m}": v for m, v in latency.items()},
        items=[
            {
                "id": qid,
                "question": dataset.queries[qid],
                **{f"ndcg@10 {m}": round(v, 4) for m, v in q.items()},
            }
            for qid, q in per_query.items()
        ],
        extra={"queries": len(dataset.queries), "modes": results, "ingest": ingest},
    )
    report.write(
        out or settings.data_dir / "reports" / f"retrieval-{dataset.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    )
    return report
