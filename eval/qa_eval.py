"""``ragqa eval qa``: ask SQuAD-format questions against their paragraphs and score the answers.

Exact match and token-F1 against gold answers (SQuAD normalisation, then CMRC's mixed segmentation),
claim-level hallucination metrics (:mod:`ragqa.eval.faithfulness`), citation validity, refusal rate and latency;
then the same questions with their own paragraph held out, where the right answer is a refusal.
"""

from __future__ import annotations

import json
import re
import string
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ragqa.cjk import CJK_CHAR
from ragqa.config import Settings
from ragqa.errors import InputError
from ragqa.eval.faithfulness import AnswerCheck, check_answer
from ragqa.eval.held_out import HeldOutRetriever
from ragqa.eval.report import Report, Table
from ragqa.eval.retrieval_eval import collection_for
from ragqa.eval.served import Bar, operating_points, serve_row, served_view, unanswerable_safe_rate
from ragqa.generation.answerer import Answer, Answerer
from ragqa.generation.backend import GenerationBackend
from ragqa.generation.citations import CITATION_MARKER, check_citations
from ragqa.generation.sampling import SamplingParams
from ragqa.generation.verify.checker import ALL_SIGNALS, SupportChecker, cheap_signals
from ragqa.generation.verify.grounding import reads_as_answer
from ragqa.generation.verify.judge import LLMJudge
from ragqa.generation.verify.served import RETRYABLE, AnswerVerifier
from ragqa.generation.verify.similarity import SentenceMatcher
from ragqa.retrieval.service import open_searcher
from ragqa.types import Hit

_ANSWERS = "answers.jsonl"
# The checker's bars the report sweeps (each table marks the chosen value).
_BARS: dict[Bar, list[float]] = {
    "coverage": [0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
    "locality": [0.0, 0.5, 0.6, 0.7, 0.8],
}
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_MIXED_TOKEN = re.compile(rf"{CJK_CHAR.pattern}|(?:(?!{CJK_CHAR.pattern}).)+")


def _strip_punctuation(text: str) -> str:
    return "".join(
        ch for ch in text if ch not in string.punctuation and not unicodedata.category(ch).startswith("P")
    )


def answer_tokens(text: str) -> list[str]:
    """SQuAD normalisation (lower case, no punctuation or articles), then CMRC's mixed segmentation: every
    Chinese character is a token and a run of other characters (a number, a Latin word) is one, so the gold
    "308" matches the "308" in "丢了308分" whichever language each side is in."""
    text = _ARTICLES.sub(" ", _strip_punctuation(CITATION_MARKER.sub(" ", text).lower()))
    return [token for word in text.split() for token in _MIXED_TOKEN.findall(word)]


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


def load_questions(path: Path) -> list[tuple[str, str, list[str]]]:
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    out = []
    for article in data:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                golds = [a["text"] for a in qa.get("answers", []) if a.get("text")]
                if str(qa.get("question", "")).strip() and golds:
                    out.append((str(qa["id"]), qa["question"], golds))
    return out


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _ask(
    answerer: Answerer,
    checker: SupportChecker | None,
    question: str,
    golds: list[str],
    params: SamplingParams,
    verifier: AnswerVerifier,
) -> tuple[Answer, AnswerCheck | None, dict[str, Any]]:
    t0 = time.perf_counter()
    answer = answerer.answer(question, params=params, verify="off")  # the raw model text is what is scored
    latency = (time.perf_counter() - t0) * 1000
    check = None
    timings = {k: round(v, 1) for k, v in answer.timings_ms.items() if k in ("retrieval", "generation")}
    if "retry" in answer.timings_ms:  # the second ask after a decline: the raw answer is its copy
        timings["retry_declined"] = round(answer.timings_ms["retry"], 1)
    if checker is not None and answer.status == "ok":
        t1 = time.perf_counter()
        check = check_answer(
            checker,
            answer.answer,
            [h.text for h in answer.sources],
            question=question,
            refused=answer.refused,
            titles=[h.title for h in answer.sources],
        )
        timings["claim check"] = round((time.perf_counter() - t1) * 1000, 1)
    timings["answer"] = round(latency, 1)
    scored = not answer.refused and answer.status == "ok"
    row: dict[str, Any] = {
        "question": question,
        "answer": answer.answer,
        "gold": golds,
        "refused": answer.refused,
        "refusal_reason": answer.refusal_reason,
        "status": answer.status,
        **_gold_scores(answer.answer, golds, scored),
        "cited": answer.cited,
        "invalid_citations": answer.invalid_citations,
        "source_docs": [h.doc_id for h in answer.sources],
        "timings_ms": timings,
    }
    if check is not None:
        _store_check(row, check)
    serve_row(row, answer.sources, verifier, answerer.settings.verify, checker, _gold_scores)
    _serve_copy(answerer, row, answer.sources, params, verifier, checker)
    return answer, check, row


def _serve_copy(
    answerer: Answerer,
    row: dict[str, Any],
    sources: list[Hit],
    params: SamplingParams,
    verifier: AnswerVerifier,
    checker: SupportChecker | None,
) -> None:
    """As the Answerer serves: when verification left nothing of the answer, the model is asked to copy the
    answering sentence, and the copy, verified in turn, is served if it passes (``retry_unsupported``)."""
    if row["served"]["refusal_reason"] not in RETRYABLE or not answerer.settings.retry_unsupported:
        return
    if "retry_declined" in row["timings_ms"]:  # the service asks a second time once at most
        return
    t0 = time.perf_counter()
    copied = answerer.copy_answer(row["question"], sources, params)
    row["timings_ms"]["retry"] = round((time.perf_counter() - t0) * 1000, 1)
    row["served"]["retried"] = True
    if copied is None:
        return
    seen, raw = copied
    text = check_citations(raw, len(seen)).text
    copy: dict[str, Any] = {**row, "answer": text, "refused": False, "refusal_reason": None}
    if checker is not None:
        titles = [h.title for h in seen]
        _store_check(
            copy, check_answer(checker, text, [h.text for h in seen], question=row["question"], titles=titles)
        )
    serve_row(copy, seen, verifier, answerer.settings.verify, checker, _gold_scores)
    if not copy["served"]["refused"] and reads_as_answer(row["question"], copy["served"]["answer"]):
        row["served"] = {**copy["served"], "retried": True}


def _gold_scores(answer: str, golds: list[str], scored: bool) -> dict[str, float]:
    """Exact match, token-F1 and gold recall of an answer (0 for a refusal or a failed answer)."""
    if not scored:
        return {"exact_match": 0.0, "token_f1": 0.0, "gold_recall": 0.0}
    return {
        "exact_match": exact_match(answer, golds),
        "token_f1": token_f1(answer, golds),
        "gold_recall": gold_recall(answer, golds),
    }


def _store_check(row: dict[str, Any], check: AnswerCheck) -> None:
    row.update(check.metrics())
    row["claims"] = [c.to_json() for c in check.claims]


def _recheck(
    answerer: Answerer,
    checker: SupportChecker,
    row: dict[str, Any],
    params: SamplingParams,
    verifier: AnswerVerifier,
) -> bool:
    """Score an earlier answer again against its gold answers and check its claims again (after a scorer or
    checker change) against the same sources, found again by retrieval; False when retrieval no longer returns
    the sources the answer was given."""
    scored = row["status"] == "ok" and not row["refused"]
    row.update(_gold_scores(row["answer"], row["gold"], scored))
    if not scored:
        serve_row(row, [], verifier, answerer.settings.verify, checker, _gold_scores)
        return True  # nothing asserted, nothing to check
    sources = answerer.sources_for(row["question"], params=params)
    if [h.doc_id for h in sources] != row["source_docs"]:
        return False
    texts, titles = [h.text for h in sources], [h.title for h in sources]
    _store_check(row, check_answer(checker, row["answer"], texts, question=row["question"], titles=titles))
    serve_row(row, sources, verifier, answerer.settings.verify, checker, _gold_scores)
    _serve_copy(answerer, row, sources, params, verifier, checker)
    return True


def _hallucination_metrics(rows: list[dict[str, Any]], prefix: str = "") -> dict[str, float]:
    """Means over answers that say something (refusals are scored separately, never as NaN)."""
    said = [r for r in rows if "faithfulness" in r and not r["refused"]]
    cp = [r["citation_precision"] for r in said if r["citation_precision"] is not None]
    cr = [r["citation_recall"] for r in said if r["citation_recall"] is not None]
    return {
        f"{prefix}faithfulness": _mean([r["faithfulness"] for r in said]),
        f"{prefix}contradicted": _mean([r["contradicted"] for r in said]),
        f"{prefix}unverifiable": _mean([r["unverifiable"] for r in said]),
        f"{prefix}hallucination_rate": _mean([float(r["hallucinated"]) for r in said]),
        f"{prefix}citation_precision": _mean(cp),
        f"{prefix}citation_recall": _mean(cr),
    }


def _set_metrics(
    rows: list[dict[str, Any]], blind_rows: list[dict[str, Any]], check_claims: bool, unanswerable: bool
) -> dict[str, Any]:
    """Answer quality of one view of the answers (served or raw)."""
    answered = [r for r in rows if r["status"] == "ok"]
    spoken = [r for r in answered if not r["refused"]]
    metrics: dict[str, Any] = {
        "questions": len(rows),
        "exact_match": _mean([r["exact_match"] for r in rows]),
        "token_f1": _mean([r["token_f1"] for r in rows]),
        "gold_recall": _mean([r["gold_recall"] for r in rows]),
        **(_hallucination_metrics(rows) if check_claims else {}),
        "citations_resolve": _mean([float(r["invalid_citations"] == 0) for r in answered]),
        "answers_with_citations": _mean([float(bool(r["cited"])) for r in spoken]),
        "refusal_rate": _mean([float(r["refused"]) for r in rows]),
        "gold_in_sources": _mean([float(r["gold_retrieved"]) for r in rows]),
    }
    if unanswerable:
        metrics["unanswerable_questions"] = len(blind_rows)
        metrics["correct_refusal_rate"] = _mean([float(r["refused"]) for r in blind_rows])
        if check_claims:
            metrics.update(_hallucination_metrics(blind_rows, prefix="unanswerable_"))
            metrics["unanswerable_safe_rate"] = unanswerable_safe_rate(blind_rows)
    return metrics


def run_qa_eval(
    settings: Settings,
    squad: Path,
    backend: GenerationBackend,
    *,
    limit: int | None = None,
    out: Path | None = None,
    params: SamplingParams | None = None,
    progress: bool = False,
    unanswerable: bool = True,
    check_claims: bool = True,
    judge: bool = False,
    resume: bool = False,
    recheck: bool = False,
) -> Report:
    """Answer the questions (answerable set), then the same questions with their paragraph held out
    (unanswerable set: the right answer is a refusal); check every claim of every answer.

    Every finished question is appended to ``OUT/answers.jsonl`` at once, so a long run that stops (Ctrl-C, a
    crash, a reboot) loses nothing; ``resume=True`` picks up where it stopped. ``recheck=True`` (with resume)
    also checks the kept answers' claims again with the current checker, against the same sources (generating
    only the copy the service asks for when verification now leaves nothing of an answer).
    """
    if not squad.is_file():
        raise InputError(f"no such SQuAD file: {squad}")
    out = out or settings.data_dir / "reports" / f"qa-{squad.stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    done = _previous_rows(out / _ANSWERS, resume)
    started = time.perf_counter()
    eval_settings, dataset = collection_for(settings, squad=squad, progress=progress)
    questions = load_questions(squad)[: limit or None]
    searcher = open_searcher(eval_settings)
    answerer = Answerer(eval_settings, searcher, backend)
    held_out = HeldOutRetriever(searcher, eval_settings.top_k)
    blind = Answerer(eval_settings, held_out, backend)
    checker = (
        SupportChecker(
            SentenceMatcher(searcher.embedder),
            LLMJudge(backend) if judge else None,
            ALL_SIGNALS
            if judge
            else cheap_signals(
                settings.verify_learned,
                settings.verify_binding,
                settings.verify_answer_kind,
                settings.verify_reader,
            ),
        )
        if check_claims
        else None
    )
    verifier = AnswerVerifier(
        searcher.embedder,
        learned=settings.verify_learned,
        binding=settings.verify_binding,
        kind=settings.verify_answer_kind,
        reader=settings.verify_reader,
    )  # what `ragqa serve` would have served
    params = params or SamplingParams(seed=0)
    rows: list[dict[str, Any]] = []
    blind_rows: list[dict[str, Any]] = []
    rechecked = [0, 0]  # [sources no longer the same, re-checked]
    out.mkdir(parents=True, exist_ok=True)
    log = (out / _ANSWERS).open("a", encoding="utf-8")
    if log.tell() and not (out / _ANSWERS).read_bytes().endswith(b"\n"):
        log.write("\n")  # a line cut short when the run stopped: later rows start on a line of their own
    for qid, question, golds in tqdm(questions, desc="qa", unit="q", disable=not progress):
        gold_doc = next(iter(dataset.qrels.get(qid, {})), None)
        held_out.excluded = frozenset({gold_doc}) if gold_doc else frozenset()  # for the unanswerable set
        if qid in done and (not unanswerable or f"{qid}-held-out" in done):
            rows.append(done[qid])
            if unanswerable:
                blind_rows.append(done[f"{qid}-held-out"])
            if recheck and checker is not None:
                rechecked[_recheck(answerer, checker, done[qid], params, verifier)] += 1
                if unanswerable:
                    rechecked[_recheck(blind, checker, done[f"{qid}-held-out"], params, verifier)] += 1
            continue
        answer, _, row = _ask(answerer, checker, question, golds, params, verifier)
        row["id"] = qid
        row["set"] = "answerable"
        row["gold_doc"] = gold_doc
        row["gold_retrieved"] = any(h.doc_id == gold_doc for h in answer.sources)
        rows.append(row)
        if unanswerable:
            _, _, blind_row = _ask(blind, checker, question, golds, params, verifier)
            blind_row["id"] = f"{qid}-held-out"
            blind_row["set"] = "unanswerable"
            blind_row["gold_doc"] = gold_doc
            blind_rows.append(blind_row)
        for finished in (row, blind_row) if unanswerable else (row,):
            log.write(json.dumps(finished, ensure_ascii=False) + "\n")
        log.flush()
    log.close()
    if recheck:
        _rewrite_log(out / _ANSWERS, done)
    latencies = [r["timings_ms"]["answer"] for r in rows + blind_rows] or [0.0]
    metrics = _set_metrics(served_view(rows), served_view(blind_rows), check_claims, unanswerable)
    metrics["verify"] = settings.verify
    metrics["raw"] = _set_metrics(rows, blind_rows, check_claims, unanswerable)
    spoken = [r for r in rows if r["status"] == "ok" and not r["refused"]]
    metrics.update(
        {
            "unavailable": sum(r["status"] == "generation_unavailable" for r in rows + blind_rows),
            "p50_ms": float(np.percentile(latencies, 50)),
            "p99_ms": float(np.percentile(latencies, 99)),
            "seconds": round(time.perf_counter() - started, 1),
        }
    )
    stages: dict[str, list[float]] = {}
    for r in rows + blind_rows:
        for stage, ms in r["timings_ms"].items():
            stages.setdefault(stage, []).append(ms)
    by_reason: dict[str, list[int]] = {}
    for label, group in (("answerable", rows), ("unanswerable", blind_rows)):
        for r in group:
            key = r["refusal_reason"] or ("answered" if r["status"] == "ok" else r["status"])
            by_reason.setdefault(key, [0, 0])[label == "unanswerable"] += 1
    report = Report(
        kind="qa",
        dataset=dataset.name,
        metrics=metrics,
        config={
            "file": str(squad),
            "model": backend.model,
            "backend": backend.name,
            "sampling": params.model_dump(),
            "answer_k": settings.answer_k,
            "answer_falloff": settings.answer_falloff,
            "answer_min_k": settings.answer_min_k,
            "collection": eval_settings.collection,
            "embedder": searcher.embedder.name,
            "signals": sorted(checker.signals) if checker else [],
            "judge": backend.model if checker and checker.judge else None,
            "unanswerable_set": "each question asked again with its own paragraph's chunks held out of retrieval",
        },
        tables=[
            Table(
                "Outcomes by set",
                ["outcome", "answerable", "unanswerable"],
                [[k, *v] for k, v in by_reason.items()],
            ),
            *(
                [
                    Table(
                        f"Operating points of verification (drop) by the checker's {bar} bar",
                        [f"{bar} bar", "answerable answered", "… with the gold answer", "held-out refused"],
                        operating_points(rows, blind_rows, values, bar),
                        note="claim-level approximation from the raw answers' stored checks (the other bar as "
                        "chosen); higher bars answer fewer answerable questions and refuse more held-out ones",
                    )
                    for bar, values in _BARS.items()
                ]
                if check_claims and unanswerable
                else []
            ),
        ],
        distributions={
            "token-F1 (answered)": [r["token_f1"] for r in spoken],
            "faithfulness (answered)": [r["faithfulness"] for r in spoken if "faithfulness" in r],
            "faithfulness (unanswerable, answered anyway)": [
                r["faithfulness"] for r in blind_rows if "faithfulness" in r and not r["refused"]
            ],
        },
        latency_ms=stages,
        items=rows + blind_rows,
    )
    report.extra["resumed_questions"] = sum(qid in done for qid, _, _ in questions)
    if recheck:
        report.extra["rechecked_answers"] = rechecked[1]
        report.extra["recheck_sources_changed"] = rechecked[0]
    report.write(out)
    return report


def _read_log(path: Path) -> list[dict[str, Any]]:
    """The rows of ``answers.jsonl``; a line cut short when a run stopped is skipped (that question is asked
    again, and its row appended later)."""
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return rows


def _rewrite_log(path: Path, done: dict[str, dict[str, Any]]) -> None:
    """Write the re-checked rows back (atomically), with any rows appended after them in this run."""
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for row in _read_log(path):
            f.write(json.dumps(done.get(row["id"], row), ensure_ascii=False) + "\n")
    tmp.replace(path)


def _previous_rows(path: Path, resume: bool) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    if not resume:
        raise InputError(
            f"{path} holds a previous run's answers; pass --resume to continue it, or another --out"
        )
    return {row["id"]: row for row in _read_log(path)}
