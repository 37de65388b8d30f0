"""Reciprocal Rank Fusion: score(d) = Σ_r 1 / (k + rank_r(d)), ranks starting at 1, k = 60 by default.

A document absent from a ranking contributes nothing from it. Ties break on the best single rank, then on
the order the rankings were given, so results are deterministic.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass(slots=True)
class Fused(Generic[K]):
    key: K
    score: float
    ranks: dict[str, int] = field(default_factory=dict)


def reciprocal_rank_fusion(rankings: Mapping[str, Sequence[K]], *, k: int = 60) -> list[Fused[K]]:
    """Fuse named rankings (best first, no duplicates within one) into one list, best first."""
    if k < 1:
        raise ValueError("k must be at least 1")
    fused: dict[K, Fused[K]] = {}
    first_seen: dict[K, int] = {}
    for name, ranking in rankings.items():
        for rank, key in enumerate(ranking, start=1):
            item = fused.get(key)
            if item is None:
                item = fused[key] = Fused(key, 0.0)
                first_seen[key] = len(first_seen)
            if name in item.ranks:
                continue
            item.ranks[name] = rank
            item.score += 1.0 / (k + rank)
    return sorted(fused.values(), key=lambda f: (-f.score, min(f.ranks.values()), first_seen[f.key]))
