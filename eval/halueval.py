"""``ragqa eval hallucination``: validate the claim checker on HaluEval QA.

Each record's ``knowledge`` is the source; its ``right_answer`` (faithful) and ``hallucinated_answer`` are
both checked. An answer is flagged as hallucinated when any of its claims is not supported. Reported for the
combined checker on every record, and as an ablation: each signal alone and in combination. LLM verdicts are
cached per (claim, source, question), so the combinations reuse them; the configurations that ask the LLM
about every claim run on the first ``judge_sample`` records only (each call costs ~1–2 s on 2 cores).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ragqa.errors import InputError
from ragqa.eval.faithfulness import AnswerCheck, check_answer
from ragqa.eval.remembered_scores import RememberedMatches, RememberedScores
from ragqa.eval.report import Report, Table
from ragqa.generation.verify.checker import (
    ALL_SIGNALS,
    BINDING_VETO,
    CHEAP_SIGNALS,
    LEARNED_PROMOTE,
    LEARNED_VETO,
    READER_VETO,
    Signal,
    SupportChecker,
    cheap_signals,
)
from ragqa.generation.verify.judge import LLMJudge, Verdict
from ragqa.generation.verify.learned import ClaimScorer, LearnedVerifier
from ragqa.generation.verify.similarity import SentenceMatcher

LEARNED_VETOES = (0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3)
LEARNED_PROMOTES = (0.8, 0.9, 0.95, 0.98, 1.01)  # 1.01: never promote
CALIBRATION_RECORDS = 400  # thresholds in checker.py were chosen on records [0, 400)
_ABLATIONS: list[tuple[str, frozenset[Signal], bool]] = [  # name, signals, needs the LLM on every claim
    ("lexical", frozenset({"lexical"}), False),
    ("embedding", frozenset({"embedding"}), False),
    ("llm", frozenset({"llm"}), True),
    ("lexical+embedding", frozenset({"lexical", "embedding"}), False),
    ("lexical+llm", frozenset({"lexical", "llm"}), False),
    ("lexical+embedding+llm", ALL_SIGNALS, False),
    ("learned", frozenset({"learned"}), False),
    ("lexical+learned", frozenset({"lexical", "learned"}), False),
    ("lexical+embedding+learned", frozenset({"lexical", "embedding", "learned"}), False),
    ("lexical+embedding+llm+learned", ALL_SIGNALS | {"learned"}, False),
    ("lexical+binding", frozenset({"lexical", "binding"}), False),
    ("lexical+embedding+binding", CHEAP_SIGNALS | {"binding"}, False),
    ("lexical+embedding+kind", CHEAP_SIGNALS | {"kind"}, False),
    ("lexical+embedding+binding+kind", CHEAP_SIGNALS | {"binding", "kind"}, False),
]
BINDING_VETOES = (0.05, 0.1, 0.15, 0.2, 0.3)
READER_VETOES = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6)


@dataclass(frozen=True, slots=True)
class HaluRecord:
    index: int
    knowledge: str
    question: str
    right_answer: str
    hallucinated_answer: str


def load_halueval(path: Path, limit: int | None = None, start: int = 0) -> list[HaluRecord]:
    """Records ``start``, ``start + 1``, … (at most ``limit``), each keeping its index in the file."""
    if not path.is_file():
        raise InputError(f"no such HaluEval file: {path}")
    records: list[HaluRecord] = []
    index = -1
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            index += 1
            if index < start:
                continue
            try:
                raw = json.loads(line)
                fields = [
                    str(raw[k]) for k in ("knowledge", "question", "right_answer", "hallucinated_answer")
                ]
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{line_no}: invalid JSON ({exc.msg})") from exc
            except (KeyError, TypeError) as exc:
                raise InputError(f"{path}:{line_no}: not a HaluEval QA record (missing {exc})") from exc
            records.append(HaluRecord(index, *fields))
            if limit and len(records) >= limit:
                break
    if not records:
        raise InputError(f"{path} holds no records")
    return records


class CachedJudge(LLMJudge):
    """Remembers verdicts so that every checker configuration asks the model about a claim once."""

    def __init__(self, judge: LLMJudge) -> None:
        super().__init__(judge.backend)
        self._cache: dict[tuple[str, tuple[str, ...], str], Verdict | None] = {}
        self.latencies_ms: list[float] = []

    def verdict(self, claim: str, sources: Sequence[str], question: str = "") -> Verdict | None:
        key = (claim, tuple(sources), question)
        if key not in self._cache:
            t0 = time.perf_counter()
            self._cache[key] = super().verdict(claim, sources, question)
            self.latencies_ms.append((time.perf_counter() - t0) * 1000)
        return self._cache[key]


def detection_metrics(pairs: Sequence[tuple[bool, bool]]) -> dict[str, float | int]:
    """``pairs`` of (truly hallucinated, flagged); hallucinated is the positive class."""
    tp = sum(t and p for t, p in pairs)
    fp = sum(p and not t for t, p in pairs)
    fn = sum(t and not p for t, p in pairs)
    tn = sum(not t and not p for t, p in pairs)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {
        "answers": len(pairs),
        "accuracy": (tp + tn) / len(pairs) if pairs else 0.0,
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "tp": tp,
        "fp": fp,
        "tn": tn,
        "fn": fn,
    }


def _check_record(checker: SupportChecker, r: HaluRecord) -> tuple[AnswerCheck, AnswerCheck]:
    return (
        check_answer(checker, r.right_answer, [r.knowledge], question=r.question),
        check_answer(checker, r.hallucinated_answer, [r.knowledge], question=r.question),
    )


def _pairs(checks: Sequence[tuple[AnswerCheck, AnswerCheck]]) -> list[tuple[bool, bool]]:
    return [p for right, wrong in checks for p in ((False, right.hallucinated), (True, wrong.hallucinated))]


def run_halueval(
    path: Path,
    matcher: SentenceMatcher,
    judge: LLMJudge | None,
    *,
    limit: int | None = None,
    start: int = 0,
    learned: LearnedVerifier | None = None,
    binding: bool = False,
    kind: bool = False,
    reader: ClaimScorer | None = None,
    judge_sample: int = 250,
    out: Path | None = None,
    data_dir: Path = Path(".ragqa"),
    progress: bool = False,
) -> Report:
    records = load_halueval(path, limit, start)
    matcher = RememberedMatches(matcher)  # the ablations and the threshold grid check the same claims again
    cached = CachedJudge(judge) if judge is not None else None
    started = time.perf_counter()
    remembered = RememberedScores(learned) if learned is not None else None
    use_learned = remembered is not None  # the learned rows appear when a model is given
    signals = (
        (ALL_SIGNALS if cached else CHEAP_SIGNALS)
        | ({"learned"} if use_learned else set())
        | ({"binding"} if binding else set())  # as served with RAGQA_VERIFY_BINDING
        | ({"kind"} if kind else set())  # … and RAGQA_VERIFY_ANSWER_KIND
    )
    main = SupportChecker(matcher, cached, signals, learned=remembered)
    checks = [
        _check_record(main, r) for r in tqdm(records, desc="halueval", unit="rec", disable=not progress)
    ]
    pairs = _pairs(checks)
    metrics = detection_metrics(pairs)
    held_out = [(c, r) for c, r in zip(checks, records, strict=True) if r.index >= CALIBRATION_RECORDS]
    if held_out:
        held = detection_metrics(_pairs([c for c, _ in held_out]))
        metrics.update({f"held_out_{k}": held[k] for k in ("answers", "accuracy", "f1")})
    metrics["llm_calls"] = cached.calls if cached else 0
    metrics["seconds"] = round(time.perf_counter() - started, 1)

    def row(name: str, sig: frozenset[Signal], subset: list[HaluRecord]) -> list[Any]:
        if sig == signals:  # the main run already checked these records with this configuration
            done = checks[: len(subset)]
        else:
            checker = SupportChecker(
                matcher if "embedding" in sig else None,
                cached if "llm" in sig else None,
                sig,
                learned=remembered,
            )
            done = [_check_record(checker, r) for r in subset]
        m = detection_metrics(_pairs(done))
        return [name, int(m["answers"]), m["accuracy"], m["precision"], m["recall"], m["f1"]]

    usable = [
        (name, sig, every)
        for name, sig, every in _ABLATIONS
        if (cached is not None or "llm" not in sig) and (use_learned or "learned" not in sig)
    ]
    ablation_rows = [
        row(name, sig, records[:judge_sample] if every else records)
        for name, sig, every in tqdm(usable, desc="ablation", disable=not progress)
    ]
    # the same sample for every configuration, so the LLM-alone row has its comparison
    if cached is not None and judge_sample < len(records):
        ablation_rows += [
            row(f"{name} (sample)", sig, records[:judge_sample]) for name, sig, every in usable if not every
        ]

    reader_rows = []
    for reader_veto in READER_VETOES if reader is not None else ():
        checker = SupportChecker(
            matcher, None, cheap_signals(False, True, True, True), reader=reader, reader_veto=reader_veto
        )
        m = detection_metrics(_pairs([_check_record(checker, r) for r in records]))
        reader_rows.append([reader_veto, m["accuracy"], m["precision"], m["recall"], m["f1"]])

    binding_rows = []
    for bind_veto in BINDING_VETOES:
        checker = SupportChecker(matcher, None, CHEAP_SIGNALS | {"binding"}, bind_veto=bind_veto)
        m = detection_metrics(_pairs([_check_record(checker, r) for r in records]))
        binding_rows.append([bind_veto, m["accuracy"], m["precision"], m["recall"], m["f1"]])

    threshold_rows = []
    for veto in LEARNED_VETOES if use_learned else ():
        for promote in LEARNED_PROMOTES:
            checker = SupportChecker(
                matcher,
                None,
                frozenset({"lexical", "embedding", "learned"}),
                learned=remembered,
                veto=veto,
                promote=promote,
            )
            m = detection_metrics(_pairs([_check_record(checker, r) for r in records]))
            threshold_rows.append([veto, promote, m["accuracy"], m["precision"], m["recall"], m["f1"]])

    verdicts: dict[str, list[int]] = {"faithful": [0, 0, 0], "hallucinated": [0, 0, 0]}
    order = ("supported", "contradicted", "unverifiable")
    for right, wrong in checks:
        for label, check in (("faithful", right), ("hallucinated", wrong)):
            for c in check.claims:
                verdicts[label][order.index(c.verdict)] += 1
    items = []
    for r, (right, wrong) in zip(records, checks, strict=True):
        for label, answer, check in (
            ("faithful", r.right_answer, right),
            ("hallucinated", r.hallucinated_answer, wrong),
        ):
            items.append(
                {
                    "id": f"{r.index}-{label}",
                    "question": r.question,
                    "answer": answer,
                    "claims": [c.to_json() for c in check.claims],
                    "label": label,
                    "flagged": check.hallucinated,
                    "correct": check.hallucinated == (label == "hallucinated"),
                }
            )
    m = metrics
    report = Report(
        kind="hallucination",
        dataset=f"halueval-{path.stem}",
        metrics=m,
        config={
            "file": str(path),
            "records": len(records),
            "first_record": start,
            "signals": sorted(signals),
            "embedder": matcher.embedder.name,
            "judge_model": judge.backend.model if judge else None,
            "judge_sample": judge_sample,
            "calibration_records": CALIBRATION_RECORDS,
        },
        tables=[
            Table(
                "Confusion matrix (positive = hallucinated)",
                ["", "flagged", "not flagged"],
                [["hallucinated", int(m["tp"]), int(m["fn"])], ["faithful", int(m["fp"]), int(m["tn"])]],
            ),
            Table(
                "Ablation: signals alone and combined",
                ["signals", "answers", "accuracy", "precision", "recall", "f1"],
                ablation_rows,
                note=f"'llm' alone asks the model about every claim, so it and the '(sample)' rows use the first "
                f"{judge_sample} records; the others use all {len(records)}.",
            ),
            *(
                [
                    Table(
                        "Learned verifier thresholds (lexical+embedding+learned)",
                        ["veto below", "promote from", "accuracy", "precision", "recall", "f1"],
                        threshold_rows,
                        note=f"the defaults are veto {LEARNED_VETO}, promote {LEARNED_PROMOTE}; pick them on "
                        "records the verifier did not train on (`--start 1200 --limit 400`)",
                    )
                ]
                if threshold_rows
                else []
            ),
            *(
                [
                    Table(
                        "Span reader thresholds (lexical+embedding+binding+kind+reader)",
                        ["veto below", "accuracy", "precision", "recall", "f1"],
                        reader_rows,
                        note=f"the default is {READER_VETO}: the reader's weight on the spans the answer holds",
                    )
                ]
                if reader_rows
                else []
            ),
            Table(
                "Binding verifier thresholds (lexical+embedding+binding)",
                ["veto below", "accuracy", "precision", "recall", "f1"],
                binding_rows,
                note=f"the default is {BINDING_VETO}, picked on records 1200–1599 (it trained on 0–1199)",
            ),
            Table(
                "Claim verdicts by answer label",
                ["answers", *order],
                [[label, *counts] for label, counts in verdicts.items()],
            ),
        ],
        distributions={
            "lexical coverage, faithful answers": _claim_values(checks, 0, "coverage"),
            "lexical coverage, hallucinated answers": _claim_values(checks, 1, "coverage"),
            "similarity, faithful answers": _claim_values(checks, 0, "similarity"),
            "similarity, hallucinated answers": _claim_values(checks, 1, "similarity"),
        },
        latency_ms={
            **({"learned verifier per claim": remembered.per_claim_ms} if remembered else {}),
            **({"llm judge call": cached.latencies_ms} if cached else {}),
        },
        items=items,
    )
    out = out or data_dir / "reports" / f"hallucination-{time.strftime('%Y%m%d-%H%M%S')}"
    report.write(out)
    return report


def _claim_values(checks: Sequence[tuple[AnswerCheck, AnswerCheck]], side: int, key: str) -> list[float]:
    values = []
    for pair in checks:
        for c in pair[side].claims:
            v = c.to_json()[key]
            if isinstance(v, float):
                values.append(v)
    return values
