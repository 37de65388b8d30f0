"""Synthetic verifier examples: negations in English and Chinese, and which articles of each set train."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragqa.eval.halueval import HaluRecord
from ragqa.eval.train_verifier import training_articles
from ragqa.eval.verifier_data import _negated, _negated_chinese, _statement, halueval_examples


@pytest.mark.parametrize(
    ("sentence", "negated"),
    [
        ("灯塔是一座花岗岩建筑。", "灯塔不是一座花岗岩建筑。"),
        ("他已经加入了北方球队。", "他未加入北方球队。"),
        ("他加入了北方球队。", "他没有加入北方球队。"),
        ("北方球队在十一月举办比赛。", "北方球队在十一月不举办比赛。"),
    ],
)
def test_a_chinese_sentence_is_negated_at_its_copula_or_first_verb(sentence: str, negated: str) -> None:
    assert _negated_chinese(sentence) == negated


def test_a_chinese_sentence_already_negated_is_left_alone() -> None:
    assert _negated_chinese("灯塔不是花岗岩。") is None


def test_an_english_sentence_is_negated_after_its_first_auxiliary() -> None:
    assert _negated("The lighthouse was lit in 1852.") == "The lighthouse was not lit in 1852."
    assert _negated("The lighthouse was never lit.") is None


def test_the_qa_eval_articles_and_the_validation_slice_are_not_trained_on() -> None:
    xquad = training_articles(Path("../shared/data/xquad/xquad.zh.json"))
    cmrc = training_articles(Path("../shared/data/cmrc2018/cmrc2018_trial.squad.json"))
    assert not set(xquad) & set(range(7)) and 47 in xquad
    assert not set(cmrc) & set(range(100)) and 255 in cmrc


def test_halueval_records_also_give_sentences_on_both_sides() -> None:
    """HaluEval alone pairs short right answers with hallucinated sentences; the knowledge's own sentence
    (supported) and that sentence with the answer swapped (not) break the length shortcut."""
    knowledge = (
        "The Harbour Light is a granite tower on Kerran Point. It was first lit in 1852 by Mara Voss. "
        "Its keeper from 1901 was Tomas Reyes."
    )
    record = HaluRecord(
        7,
        knowledge,
        "Who first lit the Harbour Light?",
        "Mara Voss",
        "The Harbour Light was first lit by Tomas Reyes.",
    )
    examples = halueval_examples([record], seed=0)
    by_kind = {(e.kind, e.supported): e.claim for e in examples}
    assert by_kind[("halueval", True)] == "Mara Voss"
    assert by_kind[("sentence", True)] == "It was first lit in 1852 by Mara Voss."
    swapped = by_kind[("sentence-intrinsic", False)]
    assert swapped.startswith("It was first lit in 1852 by ") and "Mara Voss" not in swapped
    assert by_kind[("negation", False)] == "It was not first lit in 1852 by Mara Voss."
    assert halueval_examples([record], seed=0) == examples  # seeded


@pytest.mark.parametrize(
    ("question", "answer", "statement"),
    [
        ("Who first lit the Harbour Light?", "Mara Voss", "Mara Voss first lit the Harbour Light."),
        ("What is the tower made of?", "granite", "granite is the tower made of."),
        ("When did the tower open?", "1852", None),  # no rewrite by putting the answer in place
        ("Who did the keeper marry?", "Ana", None),
        ("谁创建了青石镇天文台？", "王丽华", "王丽华创建了青石镇天文台。"),
        ("海港队的四分卫传出了几次达阵？", "3次", "海港队的四分卫传出了3次达阵。"),
        ("天文台为什么建在山上？", "视野开阔", None),  # why: an explanation, not a word in place
    ],
)
def test_a_question_is_restated_with_its_answer(question: str, answer: str, statement: str | None) -> None:
    assert _statement(question, answer) == statement


def test_reworded_true_claims_stand_beside_their_swapped_twins() -> None:
    """A model that saw only verbatim sentences as true learned that any reworded claim is false; the question
    restated with the answer, and the answer's clause, are true without being a copy — each with a twin that
    differs only by the swapped span."""
    knowledge = (
        "The Harbour Light is a granite tower on Kerran Point. It was first lit in 1852 by Mara Voss, an "
        "engineer from Leith. Its keeper from 1901 was Tomas Reyes."
    )
    record = HaluRecord(7, knowledge, "Who first lit the Harbour Light?", "Mara Voss", "Tomas Reyes lit it.")
    by_kind = {(e.kind, e.supported): e.claim for e in halueval_examples([record], seed=0)}
    assert by_kind[("statement", True)] == "Mara Voss first lit the Harbour Light."
    assert by_kind[("clause", True)] == "It was first lit in 1852 by Mara Voss"
    swap = by_kind[("intrinsic", False)]
    assert swap != "Mara Voss" and swap in knowledge
    assert by_kind[("statement-intrinsic", False)] == f"{swap} first lit the Harbour Light."
    assert by_kind[("clause-intrinsic", False)] == f"It was first lit in 1852 by {swap}"
