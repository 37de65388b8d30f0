"""The binding verifier: gradient-boosted trees over :class:`~ragqa.generation.verify.binding.Binding` features that
scores P(bound) — the probability that what a claim adds stands where the sources say it of what the claim is
about. English and Chinese alike (the features count words, not meanings); no encoder, so it costs well under a
millisecond per claim.

Its weights ship in ``binding.json`` beside this module (tens of KB of JSON; SHA-256 pinned below, checked on
load) and are rebuilt by ``ragqa train binding`` (:mod:`ragqa.eval.train_binding`) from the shared data sets.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any

from ragqa.errors import ConfigError
from ragqa.generation.verify.binding import Binding, SourceSentences
from ragqa.hashing import file_sha256

WEIGHTS = Path(__file__).with_name("binding.json")
# The shipped weights' SHA-256 (``ragqa train binding`` prints it; a retrained file needs it updated here).
WEIGHTS_SHA256 = "e1a3add50b2600b24c32d2405576ba033e9bf3408761b8aca453bb353d065cf6"


FEATURES = tuple(f.name for f in fields(Binding))


def feature_vector(binding: Binding) -> list[float]:
    """The model's inputs: every binding feature, in :data:`FEATURES` order."""
    return [float(v) for v in binding.features()]


# A tree node: (feature index, threshold, left child, right child, value); a leaf has feature index -1 and
# adds its value. x[feature] <= threshold goes left.
Node = tuple[int, float, int, int, float]


@dataclass(frozen=True, slots=True)
class BindingWeights:
    """Gradient-boosted trees (trained with scikit-learn, read without it): P(bound) = σ(baseline + Σ leaves)."""

    baseline: float
    trees: tuple[tuple[Node, ...], ...]
    trained: dict[str, Any]

    def probability(self, features: Sequence[float]) -> float:
        z = self.baseline
        for tree in self.trees:
            node = tree[0]
            while node[0] >= 0:
                node = tree[node[2] if features[node[0]] <= node[1] else node[3]]
            z += node[4]
        return 1.0 / (1.0 + math.exp(-z))

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(FEATURES),
            "baseline": self.baseline,
            "trees": [[list(node) for node in tree] for tree in self.trees],
            "trained": self.trained,
        }

    @classmethod
    def read(cls, path: Path, sha256: str | None = None) -> BindingWeights:
        if not path.is_file():
            raise ConfigError(
                f"binding verifier weights missing: {path} (rebuild with `ragqa train binding`)"
            )
        if sha256 and file_sha256(path) != sha256:
            raise ConfigError(
                f"binding verifier weights {path} do not match their SHA-256 ({sha256[:12]}…): restore the file "
                "from git or rebuild it with `ragqa train binding` and update WEIGHTS_SHA256"
            )
        raw = json.loads(path.read_text(encoding="utf-8"))
        if tuple(raw.get("features", ())) != FEATURES:
            raise ConfigError(f"binding verifier weights {path} were made for other features: retrain them")
        trees = tuple(
            tuple((int(f), float(t), int(a), int(b), float(v)) for f, t, a, b, v in tree)
            for tree in raw["trees"]
        )
        return cls(float(raw["baseline"]), trees, raw["trained"])


class BindingVerifier:
    """Scores claims' P(bound) against their sources (the :class:`ClaimScorer` interface)."""

    def __init__(self, weights: BindingWeights) -> None:
        self.weights = weights

    def score_claims(self, claims: Sequence[str], sources: Sequence[str], question: str) -> list[float]:
        if not claims:
            return []
        sentences = SourceSentences(sources, question)
        return [self.bound(sentences, c) for c in claims]

    def bound(self, sentences: SourceSentences, claim: str) -> float:
        """P(bound); 1.0 when the claim copies a source sentence or adds no word that could stand elsewhere:
        nothing to misplace."""
        if sentences.copies_a_sentence(claim):
            return 1.0
        binding = sentences.bind(claim)
        return self.weights.probability(feature_vector(binding)) if binding.added else 1.0


@cache
def shipped_binding() -> BindingVerifier:
    """The weights that ship with ragqa, checked against their pinned SHA-256."""
    return BindingVerifier(BindingWeights.read(WEIGHTS, WEIGHTS_SHA256))
