"""``ragqa eval swaps``: does the claim checker catch wrong answers made from a SQuAD-format set?

Per question (:mod:`ragqa.eval.verifier_data`): the gold answer and its sentence must pass; another span of the
same paragraph (*intrinsic*: every word is in the sources, only the relation is wrong), a span from another
article (*extrinsic*), the sentence with its answer swapped, or negated, must be flagged. Checked as the
serving path checks (word overlap, embeddings for the claims it leaves open), with the binding verifier added,
and — when a learned verifier model is there — with it added, so the report shows what each catches. Run it on
articles the verifier did not train on: XQuAD articles 0–6 (``--articles 0-6``), or all of CMRC 2018 trial.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ragqa.eval.faithfulness import check_answer
from ragqa.eval.halueval import READER_VETOES, detection_metrics
from ragqa.eval.remembered_scores import RememberedMatches, RememberedScores
from ragqa.eval.report import Report, Table
from ragqa.eval.verifier_data import Example, squad_examples
from ragqa.generation.verify.checker import CHEAP_SIGNALS, SupportChecker, cheap_signals
from ragqa.generation.verify.learned import ClaimScorer, LearnedVerifier
from ragqa.generation.verify.similarity import SentenceMatcher

# The learned signal's thresholds tried by ``--sweep`` (run it on a validation slice: CMRC trial 53–99).
SWEEP_VETOES = (0.05, 0.1, 0.2, 0.3, 0.5)
SWEEP_PROMOTES = (0.5, 0.8, 0.95)
SWEEP_BINDING_VETOES = (0.05, 0.1, 0.15, 0.2, 0.3)


def run_swaps(
    path: Path,
    matcher: SentenceMatcher,
    *,
    articles: set[int] | None = None,
    limit: int | None = None,
    seed: int = 0,
    learned: LearnedVerifier | None = None,
    reader: ClaimScorer | None = None,
    sweep: bool = False,
    out: Path | None = None,
    data_dir: Path = Path(".ragqa"),
    progress: bool = False,
) -> Report:
    started = time.perf_counter()
    examples = squad_examples(path, articles, seed)[: limit or None]
    # name → the checker's signals and thresholds
    configs: dict[str, dict[str, Any]] = {
        "lexical+embedding": {"signals": CHEAP_SIGNALS},
        "lexical+embedding+binding": {"signals": cheap_signals(False, True)},
        "lexical+embedding+binding+kind": {"signals": cheap_signals(False, True, True)},  # as served
    }
    for bind_veto in SWEEP_BINDING_VETOES if sweep else ():
        configs[f"binding veto {bind_veto}"] = {"signals": cheap_signals(False, True), "bind_veto": bind_veto}
    if reader is not None:
        configs["lexical+embedding+binding+kind+reader"] = {"signals": cheap_signals(False, True, True, True)}
        for reader_veto in READER_VETOES if sweep else ():
            configs[f"reader veto {reader_veto}"] = {
                "signals": cheap_signals(False, True, True, True),
                "reader_veto": reader_veto,
            }
    remembered = RememberedScores(learned) if learned is not None else None
    matcher = RememberedMatches(matcher)  # every configuration checks the same claims
    if learned is not None:
        configs["lexical+embedding+learned"] = {"signals": cheap_signals(True)}
        for veto in SWEEP_VETOES if sweep else ():
            for promote in SWEEP_PROMOTES:
                configs[f"learned veto {veto} promote {promote}"] = {
                    "signals": cheap_signals(True),
                    "veto": veto,
                    "promote": promote,
                }
    flagged: dict[str, list[bool]] = {}
    for name, config in configs.items():
        checker = SupportChecker(
            matcher, None, embed_unsettled_only=True, learned=remembered, reader=reader, **config
        )  # as served
        flagged[name] = [
            check_answer(checker, e.claim, list(e.sources), question=e.question).hallucinated
            for e in tqdm(examples, desc=name, unit="claim", disable=not progress)
        ]
    metrics: dict[str, float | int | str] = {"examples": len(examples)}
    kinds = sorted({e.kind for e in examples})
    rows = []
    for name, flags in flagged.items():
        m = detection_metrics([(not e.supported, f) for e, f in zip(examples, flags, strict=True)])
        metrics.update({f"{name}.{k}": m[k] for k in ("accuracy", "precision", "recall", "f1")})
        per_kind = []
        for kind in kinds:
            picked = [f for e, f in zip(examples, flags, strict=True) if e.kind == kind]
            per_kind.append(sum(picked) / len(picked))
            metrics[f"{name}.flagged.{kind}"] = per_kind[-1]
        rows.append([name, m["accuracy"], m["precision"], m["recall"], *per_kind])
    if remembered is not None:
        # the whole answer scored as one claim, P(supported) < 0.5 flags
        alone = [remembered.score_claims([e.claim], list(e.sources), e.question)[0] for e in examples]
        m = detection_metrics(
            [(not e.supported, p is not None and p < 0.5) for e, p in zip(examples, alone, strict=True)]
        )
        metrics.update({f"learned alone.{k}": m[k] for k in ("accuracy", "precision", "recall", "f1")})
    metrics["seconds"] = round(time.perf_counter() - started, 1)
    report = Report(
        kind="swaps",
        dataset=f"squad-{path.stem}",
        metrics=metrics,
        config={
            "file": str(path),
            "articles": sorted(articles) if articles is not None else "all",
            "seed": seed,
            "embedder": matcher.embedder.name,
            "kinds": {k: sum(e.kind == k for e in examples) for k in kinds},
        },
        tables=[
            Table(
                "Flagged (positive = a wrong claim); per kind, the share flagged",
                ["checker", "accuracy", "precision", "recall", *kinds],
                rows,
                note="'gold' and 'sentence' are right: flagging them is a false alarm",
            )
        ],
        items=[
            {**_item(e), **{name: flags[i] for name, flags in flagged.items()}}
            for i, e in enumerate(examples)
        ],
    )
    report.write(out or data_dir / "reports" / f"swaps-{path.stem}-{time.strftime('%Y%m%d-%H%M%S')}")
    return report


def _item(e: Example) -> dict[str, object]:
    return {"question": e.question, "claim": e.claim, "kind": e.kind, "supported": e.supported}
