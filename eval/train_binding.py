"""``ragqa train binding``: rebuild the binding verifier's weights (:mod:`ragqa.generation.verify.binding_model`).

The examples are :mod:`ragqa.eval.verifier_data`'s — right claims (gold answers, their sentences, clauses and
statements) and their intrinsic twins (another span of the same paragraph in the answer's place), negations and
extrinsic swaps — from the same training slices as ``ragqa train verifier``: HaluEval QA records 0–1199, XQuAD
articles 7–47, CMRC 2018 trial articles 100–255. Only claims the lexical signal grounds are kept: the model only
ever judges those (it vetoes; it never passes what word overlap refused). Class-balanced gradient-boosted
trees (scikit-learn's HistGradientBoostingClassifier, seeded), written out as plain nodes so that serving reads
them without scikit-learn; under a minute on 2 cores.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ragqa.eval.halueval import load_halueval
from ragqa.eval.train_verifier import HALUEVAL_TRAIN, training_articles
from ragqa.eval.verifier_data import Example, halueval_examples, squad_examples
from ragqa.generation.verify.binding import SourceSentences
from ragqa.generation.verify.binding_model import WEIGHTS, BindingWeights, feature_vector
from ragqa.generation.verify.checker import is_grounded
from ragqa.generation.verify.grounding import SourceGrounding
from ragqa.hashing import file_sha256

TREES = 100
DEPTH = 4


@dataclass(slots=True)
class BindingTrainConfig:
    halueval: Path | None = None
    squad: list[Path] = field(default_factory=list)
    out: Path = WEIGHTS
    seed: int = 0


def grounded_features(examples: Sequence[Example]) -> tuple[np.ndarray, np.ndarray, list[Example]]:
    """Features and labels of the examples whose claim the lexical signal grounds (and those examples)."""
    rows: list[list[float]] = []
    labels: list[float] = []
    kept: list[Example] = []
    prepared: dict[tuple[tuple[str, ...], str], tuple[SourceGrounding, SourceSentences]] = {}
    for e in examples:
        key = (e.sources, e.question)
        if key not in prepared:
            prepared[key] = (SourceGrounding(e.sources, e.question), SourceSentences(e.sources, e.question))
        grounding, sentences = prepared[key]
        if not is_grounded(grounding.check(e.claim)):
            continue
        rows.append(feature_vector(sentences.bind(e.claim)))
        labels.append(1.0 if e.supported else 0.0)
        kept.append(e)
    return np.asarray(rows, dtype=np.float64), np.asarray(labels), kept


def fit_trees(x: np.ndarray, y: np.ndarray, seed: int) -> BindingWeights:
    """Class-balanced gradient-boosted trees (scikit-learn), turned into plain nodes."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(
        max_iter=TREES, max_depth=DEPTH, learning_rate=0.1, class_weight="balanced", random_state=seed
    ).fit(x, y)
    trees = []
    for (predictor,) in model._predictors:  # one tree per iteration (binary)
        trees.append(
            tuple(
                (
                    -1 if n["is_leaf"] else int(n["feature_idx"]),
                    float(n["num_threshold"]),
                    int(n["left"]),
                    int(n["right"]),
                    round(float(n["value"]), 6) if n["is_leaf"] else 0.0,
                )
                for n in predictor.nodes
            )
        )
    weights = BindingWeights(round(float(model._baseline_prediction.ravel()[0]), 6), tuple(trees), {})
    ours = np.array([weights.probability(row) for row in x[:200]])
    theirs = model.predict_proba(x[:200])[:, 1]
    if np.abs(ours - theirs).max() > 1e-3:  # rounding only; anything more is a misread tree
        raise RuntimeError(
            f"the exported trees do not reproduce scikit-learn's probabilities ({np.abs(ours - theirs).max():.4f} apart)"
        )
    return weights


def build_examples(config: BindingTrainConfig) -> list[Example]:
    examples: list[Example] = []
    if config.halueval is not None:
        records = (r for r in load_halueval(config.halueval) if r.index in HALUEVAL_TRAIN)
        examples += halueval_examples(records, seed=config.seed)
    for i, path in enumerate(config.squad):
        examples += squad_examples(path, set(training_articles(path)), seed=config.seed + i)
    return examples


def train_binding(config: BindingTrainConfig) -> dict[str, Any]:
    """Fit the weights, write them to ``config.out`` and return what was written plus its SHA-256."""
    started = time.perf_counter()
    examples = build_examples(config)
    x, y, kept = grounded_features(examples)
    if len(set(y.tolist())) < 2:
        raise ValueError("the grounded examples hold only one class: give the trainer more data")
    fitted = fit_trees(x, y, config.seed)
    trained = {
        "examples": len(kept),
        "of": len(examples),
        "kinds": dict(sorted(Counter(e.kind for e in kept).items())),
        "supported": int(y.sum()),
        "seed": config.seed,
        "halueval_records": [HALUEVAL_TRAIN.start, HALUEVAL_TRAIN.stop - 1] if config.halueval else None,
        "squad_articles": {
            p.name: [training_articles(p).start, training_articles(p).stop - 1] for p in config.squad
        },
        "trees": TREES,
        "depth": DEPTH,
    }
    weights = BindingWeights(fitted.baseline, fitted.trees, trained)
    probabilities = np.array([weights.probability(row) for row in x])
    trained["train_accuracy"] = round(float(((probabilities >= 0.5) == (y == 1)).mean()), 4)
    config.out.parent.mkdir(parents=True, exist_ok=True)
    # No timing in the file: the same data and seed give the same bytes, so the pinned SHA-256 is reproducible.
    config.out.write_text(json.dumps(weights.to_json(), separators=(",", ":")) + "\n", encoding="utf-8")
    seconds = round(time.perf_counter() - started, 1)
    return {**weights.to_json(), "sha256": file_sha256(config.out), "seconds": seconds}
