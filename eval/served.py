"""What users are served: each raw eval answer passed through the serving path's verifier, then scored again.

A row keeps the raw model answer at its top level and the served one under ``served`` (text, refusal,
removed claims, gold scores, claim metrics), so a report can give both from one generation: ``metrics`` for
the served answers and ``metrics.raw`` for the model text.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

from ragqa.eval.faithfulness import AnswerCheck, check_answer
from ragqa.generation.prompt import refusal_text
from ragqa.generation.verify.checker import GROUNDED_COVERAGE, LOCAL_SHARE, SupportChecker
from ragqa.generation.verify.served import AnswerVerifier
from ragqa.types import Hit, VerifyMode

GoldScorer = Callable[[str, list[str], bool], dict[str, float]]


def serve_row(
    row: dict[str, Any],
    sources: Sequence[Hit],
    verifier: AnswerVerifier,
    mode: VerifyMode,
    checker: SupportChecker | None,
    score_gold: GoldScorer,
) -> None:
    """Fill ``row["served"]`` from the row's raw answer, as ``ragqa serve`` would have answered."""
    served: dict[str, Any] = {"answer": row["answer"], "refused": row["refused"], "removed": 0}
    served["refusal_reason"] = row["refusal_reason"]
    speaks = row["status"] == "ok" and not row["refused"]
    if speaks and mode != "off":
        started = time.perf_counter()
        verified = verifier.verify(row["question"], row["answer"], sources, mode)
        row["timings_ms"]["verification"] = round((time.perf_counter() - started) * 1000, 1)
        served["removed"] = verified.verification.removed
        if verified.refuse:
            served.update(answer=refusal_text(row["question"]), refused=True, refusal_reason=verified.reason)
        else:
            served["answer"] = verified.text
    scored = row["status"] == "ok" and not served["refused"]
    served.update(score_gold(served["answer"], row["gold"], scored))
    if checker is not None and "faithfulness" in row:
        if served["answer"] == row["answer"]:
            kept = AnswerCheck(refused=False).metrics().keys() - {"refused"}
            served.update({k: row[k] for k in kept if k in row})
        else:
            check = check_answer(
                checker,
                served["answer"],
                [h.text for h in sources],
                question=row["question"],
                refused=served["refused"],
                titles=[h.title for h in sources],
            )
            served.update(check.metrics())
    row["served"] = served


Bar = Literal["coverage", "locality"]  # the checker's GROUNDED_COVERAGE and LOCAL_SHARE
CHOSEN: dict[Bar, float] = {"coverage": GROUNDED_COVERAGE, "locality": LOCAL_SHARE}


def _survives(claim: dict[str, Any], bar: Bar, threshold: float) -> bool:
    """Would this claim pass with the checker's ``bar`` at ``threshold`` (the other bar as chosen)? A claim
    the embedding corroborated keeps its verdict; one with a missing number or name never passes."""
    if claim.get("missing"):
        return False
    if claim.get("decided_by") == "lexical+embedding" and claim.get("verdict") == "supported":
        return True
    bars = {**CHOSEN, bar: threshold}
    coverage, locality = claim.get("coverage"), claim.get("locality")
    local = locality is None or locality >= bars["locality"]  # rows checked before locality existed pass
    return coverage is not None and coverage >= bars["coverage"] and local


def operating_points(
    rows: list[dict[str, Any]],
    blind_rows: list[dict[str, Any]],
    thresholds: Sequence[float],
    bar: Bar = "coverage",
) -> list[list[Any]]:
    """The trade-off ``drop`` makes, per value of one of the checker's bars: answerable questions still answered
    (and answered with the gold answer kept) against held-out questions refused. Claim-level approximation of
    the sentence-level drop, from the claims each raw answer's check stored."""
    chosen = CHOSEN[bar]

    def answered(row: dict[str, Any], threshold: float) -> bool:
        if row["status"] != "ok" or row["refused"]:
            return False
        return any(_survives(c, bar, threshold) for c in row.get("claims", []))

    table = []
    for t in thresholds:
        kept = [answered(r, t) for r in rows]
        with_gold = [k and r["gold_recall"] >= 0.5 for k, r in zip(kept, rows, strict=True)]
        refused = [not answered(r, t) for r in blind_rows]
        table.append(
            [
                f"{t:.2f}" + (" (chosen)" if abs(t - chosen) < 1e-9 else ""),
                round(sum(kept) / max(1, len(rows)), 4),
                round(sum(with_gold) / max(1, len(rows)), 4),
                round(sum(refused) / max(1, len(blind_rows)), 4),
            ]
        )
    return table


def served_view(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as served: the served fields over the raw ones (rows without them stay raw)."""
    return [{**row, **row.get("served", {})} for row in rows]


def unanswerable_safe_rate(blind_rows: list[dict[str, Any]]) -> float:
    """Share of held-out questions that were refused, or answered with no unsupported claim."""
    if not blind_rows:
        return 0.0
    safe = [r["refused"] or (r.get("status") == "ok" and not r.get("hallucinated", True)) for r in blind_rows]
    return sum(safe) / len(safe)
