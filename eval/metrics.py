"""Ranking metrics computed by ``pytrec_eval`` (trec_eval's own code), averaged over queries."""

from __future__ import annotations

from ragqa.extras import require

pytrec_eval = require("pytrec_eval", "eval", "the retrieval eval")

Run = dict[str, dict[str, float]]
Qrels = dict[str, dict[str, int]]


def _top(run: Run, k: int) -> Run:
    return {q: dict(sorted(docs.items(), key=lambda kv: -kv[1])[:k]) for q, docs in run.items()}


def ranking_metrics(qrels: Qrels, run: Run) -> dict[str, float]:
    """nDCG@10, Recall@100, MRR@10 and hit@1 (success@1); queries with no results score 0."""
    qrels = {q: rel for q, rel in qrels.items() if q in run}
    full = {q: run.get(q) or {"__none__": 0.0} for q in qrels}
    deep = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10", "recall.100", "success.1"}).evaluate(full)
    shallow = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(_top(full, 10))
    n = len(qrels) or 1
    return {
        "ndcg@10": sum(m["ndcg_cut_10"] for m in deep.values()) / n,
        "recall@100": sum(m["recall_100"] for m in deep.values()) / n,
        "mrr@10": sum(m["recip_rank"] for m in shallow.values()) / n,
        "hit@1": sum(m["success_1"] for m in deep.values()) / n,
    }


def query_ndcg(qrels: Qrels, run: Run) -> dict[str, float]:
    """nDCG@10 of each query of ``run`` (for per-query tables and score distributions)."""
    qrels = {q: rel for q, rel in qrels.items() if q in run}
    full = {q: run.get(q) or {"__none__": 0.0} for q in qrels}
    scores = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10"}).evaluate(full)
    return {q: m["ndcg_cut_10"] for q, m in scores.items()}
