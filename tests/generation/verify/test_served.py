"""The served-answer verifier with the real embedders: what each mode serves, in English and Chinese."""

from __future__ import annotations

import pytest

from ragqa.config import load_settings
from ragqa.generation.verify.served import AnswerVerifier
from ragqa.retrieval.embedders import MULTILINGUAL, Embedder, get_embedder
from ragqa.types import Hit

SOURCE = "Some preface. The Alder Bay mill opened in 1887. It ground wheat for three valleys until 1950."


def _hit(text: str, start: int = 100) -> Hit:
    return Hit("c1", "d1", 1.0, text, "Alder Bay", "alder.txt", (start, start + len(text)))


def test_modes(embedder: Embedder) -> None:
    verifier = AnswerVerifier(embedder)
    answer = "The Alder Bay mill opened in 1887 [1]. It was painted bright purple by the king of Spain [1]."
    dropped = verifier.verify("When did the mill open?", answer, [_hit(SOURCE)], "drop")
    assert dropped.text == "The Alder Bay mill opened in 1887 [1]." and not dropped.refuse
    assert dropped.verification.to_json() == {"mode": "drop", "claims": 2, "supported": 1, "removed": 1}
    evidence = dropped.verification.claims[0].evidence
    assert evidence is not None and evidence.n == 1 and "1887" in evidence.text
    assert SOURCE[evidence.span[0] - 100 : evidence.span[1] - 100] == evidence.text
    assert verifier.verify("q", answer, [_hit(SOURCE)], "strict").refuse
    annotated = verifier.verify("q", answer, [_hit(SOURCE)], "annotate")
    assert annotated.text == answer and annotated.verification.removed == 0
    nothing_left = verifier.verify(
        "q", "The mill was painted purple by the king of Spain [1].", [_hit(SOURCE)], "drop"
    )
    assert nothing_left.refuse and nothing_left.verification.supported == 0
    assert nothing_left.reason == "unsupported"


@pytest.mark.slow
def test_chinese_sentences_rejoin_without_spaces() -> None:
    verifier = AnswerVerifier(get_embedder(load_settings(), MULTILINGUAL))
    source = "前言。阿尔德湾磨坊于1887年开业。它为三个山谷磨小麦，直到1950年。"
    answer = "阿尔德湾磨坊于1887年开业[1]。西班牙国王把它漆成了紫色并送给了月亮上的居民[1]。它为三个山谷磨小麦[1]。"
    served = verifier.verify("磨坊何时开业？", answer, [_hit(source)], "drop")
    assert served.text == "阿尔德湾磨坊于1887年开业[1]。它为三个山谷磨小麦[1]。", served


def test_drop_leaves_no_bare_list_numbers_citation_pieces_or_dangling_introduction(
    embedder: Embedder,
) -> None:
    verifier = AnswerVerifier(embedder)
    listed = (
        "The mill's story has two parts:\n1. It was painted bright purple by the king of Spain [1].\n"
        "2. It was moved to the moon in 1902 [1]."
    )
    served = verifier.verify("What happened to the mill?", listed, [_hit(SOURCE)], "drop")
    assert served.refuse, served.text  # not "1.2." or "The mill's story has two parts:"
    kept = verifier.verify(
        "When did the mill open?",
        "1. The Alder Bay mill opened in 1887 [1].\n2. It was painted bright purple by the king of Spain [1].",
        [_hit(SOURCE)],
        "drop",
    )
    assert kept.text == "The Alder Bay mill opened in 1887 [1]." and not kept.refuse  # not "… 1887 [1]. 2."
    year = verifier.verify(
        "When did the mill open?",
        "1887 [1]. It was painted bright purple by the king of Spain [1].",
        [_hit(SOURCE)],
        "drop",
    )
    assert year.text == "1887 [1]." and not year.refuse  # a bare number that answers is not a list number


@pytest.mark.slow
def test_a_step_by_step_answer_whose_steps_are_all_dropped_is_refused_not_served_as_numbers() -> None:
    verifier = AnswerVerifier(get_embedder(load_settings(), MULTILINGUAL))
    source = "前言。阿尔德湾磨坊于1887年开业。它为三个山谷磨小麦，直到1950年。"
    answer = (
        "让我们逐步分析：\n\n1. 首先，我们需要找到磨坊的资料。\n2. 在资料 [1] 中，我们可以看到他被描述为加拿大总理。\n"
        "3. 但是，资料 [1] 提供的信息是关于加拿大总理的详细信息，而不是关于磨坊的职位。\n"
        "4. 因此，我们不能直接从资料 [1] 中得出结论。\n\n最终答案：我不知道。"
    )
    served = verifier.verify("磨坊何时开业？", answer, [_hit(source)], "drop")
    # a bare step number passes the checker (nothing to check); it used to be served
    assert served.refuse, served.text


def test_an_answer_of_another_kind_is_refused_when_the_kind_check_is_on(embedder: Embedder) -> None:
    question = "In what year did the Alder Bay mill open?"
    off_kind = "The Alder Bay mill ground wheat for three valleys [1]."  # true, but no year
    checked = AnswerVerifier(embedder, kind=True).verify(question, off_kind, [_hit(SOURCE)], "drop")
    assert checked.refuse and checked.verification.claims[0].verdict == "contradicted"
    assert checked.reason == "not_an_answer"  # its own refusal reason: supported, but not what was asked
    assert not AnswerVerifier(embedder).verify(question, off_kind, [_hit(SOURCE)], "drop").refuse
    # read over the whole answer: a context sentence beside the one holding the year is not held against it
    whole = "The Alder Bay mill opened in 1887 [1]. It ground wheat for three valleys [1]."
    served = AnswerVerifier(embedder, kind=True).verify(question, whole, [_hit(SOURCE)], "drop")
    assert served.text == whole and served.verification.removed == 0
