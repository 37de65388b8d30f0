"""``ragqa eval qa``: ask SQuAD-format questions against their paragraphs and score the answers.

First version: exact match and token-F1 against gold answers (SQuAD normalisation; characters for Chinese, as
CMRC scores), share of answers whose citations all resolve, refusal rate and latency.
"""

from __future__ import annotations

import json
import re
import string
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ragqa.config import Settings
from ragqa.errors import InputError
from ragqa.eval.retrieval_eval import collection_for
from ragqa.generation.answerer import Answerer
from ragqa.generation.backend import GenerationBackend
from ragqa.generation.prompt import is_chinese
from ragqa.generation.sampling import SamplingParams
from ragqa.retrieval.service import open_searcher

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_CITATION = re.compile(r"\[\d+\]")


def _strip_punctuation(text: str) -> str:
    return "".join(
        ch for ch in text if ch not in string.punctuation and not unicodedata.category(ch).startswith("P")
    )


def answer_tokens(text: str) -> list[str]:
    """SQuAD normalisation for English (lower, no punctuation/articles); single characters for Chinese."""
    text = _CITATION.sub(" ", text)
    if is_chinese(text):
        return [ch for ch in _strip_punctuation(text.lower()) if not ch.isspace()]
    return _ARTICLES.sub(" ", _strip_punctuation(text.lower())).split()


def exact_match(prediction: str, golds: list[str]) -> float:
    pred = answer_tokens(prediction)
    return float(any(pred == answer_tokens(g) for g in golds))


def token_f1(prediction: str, golds: list[str]) -> float:
    pred = answer_tokens(prediction)
    best = 0.0
    for gold in golds:
        ref = answer_tokens(gold)
        common = sum((Counter(pred) & Counter(ref)).values())
        if not common:
            continue
        precision, recall = common / len(pred), common / len(ref)
        best = max(best, 2 * precision * recall / (precision + recall))
    return best


def gold_recall(prediction: str, golds: list[str]) -> float:
    """Share of the gold answer's tokens found in the answer (best gold): fair to long, correct answers."""
    pred = Counter(answer_tokens(prediction))
    best = 0.0
    for gold in golds:
        ref = Counter(answer_tokens(gold))
        if ref:
            best = max(best, sum((pred & ref).values()) / sum(ref.values()))
    return best


@dataclass(slots=True)
class QAReport:
    dataset: str
    metrics: dict[str, float]
    rows: list[dict[str, Any]]
    config: dict[str, Any]
    path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "qa",
            "dataset": self.dataset,
            "metrics": self.metrics,
            "config": self.config,
            "questions": self.rows,
            **self.extra,
        }

    def table(self) -> str:
        m = self.metrics
        return (
            f"{self.dataset}: {int(m['questions'])} questions, model {self.config.get('model')}\n"
            f"exact_match {m['exact_match']:.4f}  token_f1 {m['token_f1']:.4f}  gold_recall {m['gold_recall']:.4f}  "
            f"citations_resolve {m['citations_resolve']:.4f}  refusal_rate {m['refusal_rate']:.4f}\n"
            f"answer p50 {m['p50_ms']:.0f} ms  p99 {m['p99_ms']:.0f} ms  unavailable {int(m['unavailable'])}"
        )


def _load_questions(path: Path) -> list[tuple[str, str, list[str]]]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    out = []
    for article in data:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                golds = [a["text"] for a in qa.get("answers", []) if a.get("text")]
                if str(qa.get("question", "")).strip() and golds:
                    out.append((str(qa["id"]), qa["question"], golds))
    return out


def run_qa_eval(
    settings: Settings,
    squad: Path,
    backend: GenerationBackend,
    *,
    limit: int | None = None,
    out: Path | None = None,
    params: SamplingParams | None = None,
    progress: bool = False,
) -> QAReport:
    if not squad.is_file():
        raise InputError(f"no such SQuAD file: {squad}")
    eval_settings, dataset = collection_for(settings, squad=squad, progress=progress)
    questions = _load_questions(squad)[: limit or None]
    answerer = Answerer(eval_settings, open_searcher(eval_settings), backend)
    params = params or SamplingParams(seed=0)
    rows: list[dict[str, Any]] = []
    for qid, question, golds in tqdm(questions, desc="qa", unit="q", disable=not progress):
        t0 = time.perf_counter()
        answer = answerer.answer(question, params=params)
        latency = (time.perf_counter() - t0) * 1000
        gold_doc = next(iter(dataset.qrels.get(qid, {})), None)
        rows.append(
            {
                "id": qid,
                "question": question,
                "gold": golds,
                "answer": answer.answer,
                "refused": answer.refused,
                "refusal_reason": answer.refusal_reason,
                "status": answer.status,
                "exact_match": 0.0 if answer.refused else exact_match(answer.answer, golds),
                "token_f1": 0.0 if answer.refused else token_f1(answer.answer, golds),
                "gold_recall": 0.0 if answer.refused else gold_recall(answer.answer, golds),
                "cited": answer.cited,
                "invalid_citations": answer.invalid_citations,
                "uncited_sentences": len(answer.uncited_sentences),
                "gold_retrieved": any(h.doc_id == gold_doc for h in answer.sources),
                "latency_ms": round(latency, 1),
                "timings": answer.timings_ms,
            }
        )
    answered = [r for r in rows if r["status"] == "ok"]
    latencies = [r["latency_ms"] for r in rows] or [0.0]
    n = len(rows) or 1
    metrics = {
        "questions": float(len(rows)),
        "exact_match": sum(r["exact_match"] for r in rows) / n,
        "token_f1": sum(r["token_f1"] for r in rows) / n,
        "gold_recall": sum(r["gold_recall"] for r in rows) / n,
        "citations_resolve": sum(r["invalid_citations"] == 0 for r in answered) / (len(answered) or 1),
        "answers_with_citations": sum(bool(r["cited"]) for r in answered if not r["refused"])
        / (sum(not r["refused"] for r in answered) or 1),
        "refusal_rate": sum(r["refused"] for r in rows) / n,
        "gold_in_sources": sum(r["gold_retrieved"] for r in rows) / n,
        "unavailable": float(sum(r["status"] == "generation_unavailable" for r in rows)),
        "p50_ms": float(np.percentile(latencies, 50)),
        "p99_ms": float(np.percentile(latencies, 99)),
    }
    config = {
        "model": backend.model,
        "backend": backend.name,
        "sampling": params.model_dump(),
        "answer_k": settings.answer_k,
        "collection": eval_settings.collection,
    }
    report = QAReport(dataset.name, metrics, rows, config)
    out = out or settings.data_dir / "reports" / f"qa-{dataset.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir(parents=True, exist_ok=True)
    report.path = out / "report.json"
    report.path.write_text(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    return report
