"""How many sources the model reads: as many as the question's scores say are close to the best one
(``ANSWER_FALLOFF``, off by default), never fewer than ``ANSWER_MIN_K`` nor more than ``ANSWER_K``.

Each source's dense similarity is placed between the best and the worst of the retrieved candidates (0 = as
far from the question as the worst, 1 = as close as the best); a source below ``ANSWER_FALLOFF`` on that scale
is left out once ``ANSWER_MIN_K`` are kept. The scale is relative because raw similarities are not comparable
across languages: multilingual-e5 scores Chinese passages within a few hundredths of each other, English ones
tenths apart. A hit found by BM25 alone has no dense score and counts as the worst. With no dense scores at all
(``mode=bm25``) every source is kept.
"""

from __future__ import annotations

from collections.abc import Sequence

from ragqa.types import Hit


def _dense(hit: Hit) -> float | None:
    return hit.scores.get("dense")


def close_to_best(sources: Sequence[Hit], candidates: Sequence[Hit], min_k: int, falloff: float) -> list[Hit]:
    """The ``sources`` (in rank order) whose dense score stands at least ``falloff`` of the way from the worst
    of ``candidates`` to the best; the first ``min_k`` always."""
    scored = [s for s in (_dense(h) for h in candidates) if s is not None]
    if falloff <= 0 or len(sources) <= min_k or not scored:
        return list(sources)
    low, high = min(scored), max(scored)
    if high <= low:
        return list(sources)
    kept = []
    for rank, hit in enumerate(sources):
        score = _dense(hit)
        if rank < min_k or (score is not None and (score - low) / (high - low) >= falloff):
            kept.append(hit)
    return kept
