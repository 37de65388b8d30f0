"""A learned verifier's scores and the embedding matches, each answer's computed once: the evals try many
configurations and thresholds on the same claims, and the model is compiled once, by the verifier they wrap."""

from __future__ import annotations

import time
from collections.abc import Sequence

from ragqa.generation.verify.learned import ClaimScorer
from ragqa.generation.verify.similarity import SentenceMatch, SentenceMatcher


class RememberedScores:
    """Wraps any :class:`ClaimScorer`; keeps the per-claim time of each first scoring (``per_claim_ms``)."""

    def __init__(self, inner: ClaimScorer) -> None:
        self.inner = inner
        self._seen: dict[tuple[tuple[str, ...], tuple[str, ...], str], list[float | None]] = {}
        self.per_claim_ms: list[float] = []

    def score_claims(
        self, claims: Sequence[str], sources: Sequence[str], question: str = ""
    ) -> list[float | None]:
        key = (tuple(claims), tuple(sources), question)
        if key not in self._seen:
            t0 = time.perf_counter()
            self._seen[key] = self.inner.score_claims(claims, sources, question)
            if claims:
                self.per_claim_ms.append((time.perf_counter() - t0) * 1000 / len(claims))
        return self._seen[key]


class RememberedMatches(SentenceMatcher):
    """A :class:`SentenceMatcher` that embeds each (claims, sources, question) once: ``eval swaps --sweep`` checks
    the same claims under 16 threshold pairs, and re-embedding them was most of its time."""

    def __init__(self, inner: SentenceMatcher) -> None:
        super().__init__(inner.embedder)
        self._seen: dict[tuple[tuple[str, ...], tuple[str, ...], str], list[SentenceMatch]] = {}

    def best(self, claims: Sequence[str], sources: Sequence[str], question: str = "") -> list[SentenceMatch]:
        key = (tuple(claims), tuple(sources), question)
        if key not in self._seen:
            self._seen[key] = super().best(claims, sources, question)
        return self._seen[key]
