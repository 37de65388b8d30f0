"""Embedding support: the source sentence most similar to a claim, and how similar it is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ragqa.cjk import CJK_CHAR
from ragqa.retrieval.embedders import Embedder
from ragqa.sentences import split_sentences

_SHORT_WORDS = 5
_SHORT_CJK_CHARS = 8


def _in_context(claim: str, question: str) -> str:
    """A short answer ("Delhi") means something only after its question; a full sentence stands alone, and
    prefixing the question would make any claim look on topic."""
    short = len(claim) <= _SHORT_CJK_CHARS if CJK_CHAR.search(claim) else len(claim.split()) <= _SHORT_WORDS
    return f"{question} {claim}".strip() if short else claim


@dataclass(frozen=True, slots=True)
class SentenceMatch:
    score: float  # cosine similarity of claim (with its question) and the best source sentence
    source: int  # index into the sources given
    sentence: str


class SentenceMatcher:
    """Embeds claims and source sentences with the collection's embedder, symmetric (document side both)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    @staticmethod
    def _sentences(sources: Sequence[str]) -> tuple[list[str], list[int]]:
        """Each source's sentences, and each pair of neighbours (so "It was founded in 1934." keeps its "It")."""
        sentences: list[str] = []
        owners: list[int] = []
        for i, text in enumerate(sources):
            spans = [(a, b) for a, b in split_sentences(text) or [(0, len(text))] if text[a:b].strip()]
            windows = [*spans, *((spans[j][0], spans[j + 1][1]) for j in range(len(spans) - 1))]
            for start, end in windows:
                sentences.append(text[start:end])
                owners.append(i)
        return sentences, owners

    def best(self, claims: Sequence[str], sources: Sequence[str], question: str = "") -> list[SentenceMatch]:
        """One match per claim; a short claim is embedded after its question so that a bare "Delhi" has meaning."""
        sentences, owners = self._sentences(sources)
        if not claims:
            return []
        if not sentences:
            return [SentenceMatch(0.0, -1, "") for _ in claims]
        texts = [_in_context(c, question) for c in claims]
        vectors = self.embedder.embed_documents([*texts, *sentences])
        sims = vectors[: len(texts)] @ vectors[len(texts) :].T
        best = np.argmax(sims, axis=1)
        return [
            SentenceMatch(float(sims[i, j]), owners[int(j)], sentences[int(j)]) for i, j in enumerate(best)
        ]
