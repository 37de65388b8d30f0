"""The evals' memo of per-answer work: the same claims checked under many thresholds are embedded once."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ragqa.eval.remembered_scores import RememberedMatches
from ragqa.generation.verify.similarity import SentenceMatcher
from ragqa.retrieval.embedders import Embedder


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.texts = 0

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self.texts += len(texts)
        return self.inner.embed_documents(texts)


def test_the_same_claims_are_embedded_once_and_match_as_before(embedder: Embedder) -> None:
    counting = CountingEmbedder(embedder)
    plain = SentenceMatcher(embedder)
    remembered = RememberedMatches(SentenceMatcher(counting))  # type: ignore[arg-type]
    sources = ["Delhi is the capital of India. It has 30 million people.", "Paris is in France."]
    first = remembered.best(["The capital of India is Delhi."], sources, "What is India's capital?")
    spent = counting.texts
    again = remembered.best(["The capital of India is Delhi."], sources, "What is India's capital?")
    assert (
        again == first == plain.best(["The capital of India is Delhi."], sources, "What is India's capital?")
    )
    assert spent > 0 and counting.texts == spent  # the second call embedded nothing
    other = remembered.best(["Paris is in France."], sources)
    assert other[0].source == 1 and counting.texts > spent
