"""The span reader that ships in the repository (``generation/verify/reader/``): it loads from the clone with no
network and no training, its weights match their checksum, and — as the answer check (``RAGQA_VERIFY_READER``) —
it refuses made-up intrinsic swaps that the lexical signal passes while the right answers stay served.

The passages (made_up_swaps.py) were written before any model was scored on them; the counts required below are
what the shipped model does on them (2026-12-07): three of the four Chinese swaps and two of the four English
ones — the other English two hold the reader's second guess ("Ben Ortiz" at 0.45 of "Ana Ruiz"'s weight).
Its speed is a benchmark, not a timed test: ``python bench/verifier.py``."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pytest

from ragqa.generation.verify.checker import SupportChecker
from ragqa.generation.verify.claims import Claim
from ragqa.generation.verify.reader import MODEL_DIR, READER_KIND, Manifest, Span, SpanReader
from ragqa.hashing import file_sha256
from tests.generation.verify.made_up_swaps import CASES

CAUGHT_AT_LEAST = {"en": 2, "zh": 3}


def test_the_shipped_reader_loads_offline_and_matches_its_checksum() -> None:
    manifest = Manifest.read(MODEL_DIR)
    assert file_sha256(MODEL_DIR / "model.bin") == manifest.sha256
    assert json.loads((MODEL_DIR / "manifest.json").read_text())["kind"] == READER_KIND
    assert manifest.trained["rows"] > 3000 and manifest.trained["halueval_records"] == [0, 1199]
    SpanReader().load()  # checks the SHA-256 and compiles; raises ConfigError otherwise


@pytest.mark.parametrize("language", sorted(CASES))
def test_it_refuses_made_up_intrinsic_swaps_that_the_lexical_signal_passes(language: str) -> None:
    reader = SpanReader()
    lexical = SupportChecker(None, None, frozenset({"lexical"}))
    with_reader = SupportChecker(None, None, frozenset({"lexical", "reader"}), reader=reader)
    caught = 0
    for source, question, right, swapped in CASES[language]:
        (passed,) = lexical.check([Claim(swapped, (1,))], [source], question)
        assert passed.verdict == "supported", swapped  # every word of the swap is in the source
        (kept,) = with_reader.check([Claim(right, (1,))], [source], question)
        assert kept.verdict == "supported", (right, reader.spans(question, [source])[:3])
        (checked,) = with_reader.check([Claim(swapped, (1,))], [source], question)
        caught += checked.verdict == "contradicted" and checked.decided_by.endswith("+reader")
    assert caught >= CAUGHT_AT_LEAST[language], f"{caught} of {len(CASES[language])} swaps caught"


def test_a_context_sentence_beside_the_answer_is_not_held_against_it() -> None:
    source, question, right, swapped = CASES["zh"][0]
    checker = SupportChecker(None, None, frozenset({"lexical", "reader"}), reader=SpanReader())
    context = "青石镇天文台建在镇北的山坡上。"
    kept = checker.check([Claim(right, (1,)), Claim(context, (1,))], [source], question)
    assert [c.verdict for c in kept] == ["supported", "supported"]  # read as one answer, not claim by claim
    refused = checker.check([Claim(swapped, (1,)), Claim(context, (1,))], [source], question)
    assert [c.verdict for c in refused] == ["contradicted", "contradicted"]
    assert all(c.decided_by.endswith("+reader") for c in refused)


class _Counting(SpanReader):
    def __init__(self) -> None:
        super().__init__()
        self.read: list[str] = []

    def score_claims(
        self, claims: Sequence[str], sources: Sequence[str], question: str = ""
    ) -> list[float | None]:
        self.read.append(question)
        return super().score_claims(claims, sources, question)


def test_a_yes_or_no_answer_is_not_weighed_against_spans() -> None:
    """A yes-or-no question's answer holds no span the reader finds: the reader is not asked."""
    source = "Youssef Chahine was an Egyptian film director. Gordon Douglas was an American film director."
    reader = _Counting()
    checker = SupportChecker(None, None, frozenset({"lexical", "reader"}), reader=reader)
    for question in ("Are Youssef Chahine and Gordon Douglas both directors?", "他们两人是否都是导演？"):
        (check,) = checker.check([Claim("Youssef Chahine and Gordon Douglas were film directors.", (1,))],
                                 [source], question)  # fmt: skip
        assert check.verdict == "supported" and "+reader" not in check.decided_by
    assert reader.read == []
    checker.check(
        [Claim("Gordon Douglas was an American film director.", (1,))], [source], "Who was American?"
    )
    assert reader.read == ["Who was American?"]  # a question a span answers is read


def test_a_hyphen_in_the_answer_holds_the_sources_dash() -> None:
    """An answer's "20-18" holds the reader's span "20–18" (an en dash, as the source writes it)."""
    reader = SpanReader()
    spans = [Span("20–18", 0.9), Span("24–10", 0.1)]
    assert reader.support("The final score of the AFC Championship Game was 20-18.", spans) == 1.0
    assert reader.support("The final score was 24-10.", spans) == pytest.approx(0.1 / 0.9)
