"""The binding verifier (:mod:`ragqa.generation.verify.binding`, ``binding_model``): its features, its shipped
weights (checksum, offline load), and what it catches that the lexical signal passes.

The passages below are made up (no data set holds them). Each has a right claim and an intrinsic swap: a name,
number or date from *another sentence of the same passage* in the answer's place — every word of the swap is in
the source, so word overlap passes it. Two first Chinese cases swapped numbers, which the lexical signal already
catches in Chinese (a number must share a sentence with what the claim says of it); they were replaced by names.
Swaps inside one sentence ("Maria Keller founded it, and her student Tomas Brandt directed it") are harder:
``test_shipped_verifier.py`` holds those, and the binding verifier ranks the right claim above the swap there
but vetoes few (README, "Binding verifier").
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragqa.errors import ConfigError
from ragqa.generation.verify.binding import SourceSentences
from ragqa.generation.verify.binding_model import (
    FEATURES,
    WEIGHTS,
    WEIGHTS_SHA256,
    BindingWeights,
    shipped_binding,
)
from ragqa.generation.verify.checker import BINDING_VETO, SupportChecker
from ragqa.generation.verify.claims import Claim
from ragqa.generation.verify.glue_words import glue_words
from ragqa.hashing import file_sha256

# (source, question, right claim, intrinsic swap from another sentence)
CASES = {
    "en": [
        (
            "The Lindqvist Observatory stands on a hill above Varberg. Maria Keller founded it in 1931. Tomas Brandt, her student, later wrote a history of the town.",
            "Who founded the Lindqvist Observatory?",
            "Maria Keller founded the Lindqvist Observatory in 1931.",
            "Tomas Brandt founded the Lindqvist Observatory in 1931.",
        ),
        (
            "The Harbor City Gulls won the league final 31 to 17. Ana Ruiz coached the Gulls that season. The team's quarterback, Ben Ortiz, threw three touchdown passes in the final.",
            "Who coached the Harbor City Gulls?",
            "Ana Ruiz coached the Harbor City Gulls.",
            "Ben Ortiz coached the Harbor City Gulls.",
        ),
        (
            "Work on the Aldren Bridge began in 1874. The bridge opened to traffic in 1879. A flood damaged its piers in 1926.",
            "When did the Aldren Bridge open to traffic?",
            "The Aldren Bridge opened to traffic in 1879.",
            "The Aldren Bridge opened to traffic in 1926.",
        ),
        (
            "The Norwood Museum of Clocks opened in 1902 in a former mill. Its founder, Clara Holt, collected clocks for forty years. She died in 1931 and left the collection to the town.",
            "When did the Norwood Museum of Clocks open?",
            "The Norwood Museum of Clocks opened in 1902.",
            "The Norwood Museum of Clocks opened in 1931.",
        ),
    ],
    "zh": [
        (
            "青石镇天文台建在镇北的山坡上。王丽华于1931年创建了这座天文台。李建国是她的学生，后来写了一本小镇的历史。",
            "谁创建了青石镇天文台？",
            "王丽华创建了青石镇天文台。",
            "李建国创建了青石镇天文台。",
        ),
        (
            "海港队在联赛决赛中以31比17获胜。那个赛季海港队的主教练是陈志强。球队的四分卫刘伟在决赛中传出了三次达阵。",
            "海港队的主教练是谁？",
            "海港队的主教练是陈志强。",
            "海港队的主教练是刘伟。",
        ),
        (
            "云河大桥由工程师周文设计。大桥于1879年建成通车。当地商人吴海捐资修建了桥头的凉亭。",
            "云河大桥由谁设计？",
            "云河大桥由周文设计。",
            "云河大桥由吴海设计。",
        ),
        (
            "北林钟表博物馆位于南江市。创办人赵秀英出生在东山县，收藏钟表四十年。",
            "北林钟表博物馆位于哪里？",
            "北林钟表博物馆位于南江市。",
            "北林钟表博物馆位于东山县。",
        ),
    ],
}


@pytest.mark.parametrize("language", sorted(CASES))
def test_an_added_detail_from_another_sentence_is_outside_the_anchor(language: str) -> None:
    for source, question, right, swapped in CASES[language]:
        sentences = SourceSentences([source], question)
        kept, moved = sentences.bind(right), sentences.bind(swapped)
        assert kept.outside == 0 and kept.deficit == 0, right
        assert moved.outside > 0, swapped  # the sentence most about the claim lacks its added detail


def test_a_sentence_opening_with_a_pronoun_is_read_with_the_one_before() -> None:
    """ "They" is the Broncos: a right answer that names them is bound, in English and in Chinese."""
    english = SourceSentences(
        ["The Broncos defeated the Steelers in the divisional round. They then beat the Patriots 20-18."],
        "Who did the Broncos beat in the AFC Championship Game?",
    )
    assert english.bind("The Broncos beat the Patriots 20-18.").outside == 0
    chinese = SourceSentences(
        ["野马队在分区赛击败了钢人队。他们随后以20比18战胜了爱国者队。"], "野马队战胜了谁？"
    )
    assert chinese.bind("野马队以20比18战胜了爱国者队。").outside == 0


def test_a_claim_that_adds_nothing_has_nothing_to_bind() -> None:
    sentences = SourceSentences(["Ana Ruiz coached the Gulls."], "Who coached the Gulls?")
    assert sentences.bind("the Gulls").added == 0


def test_the_shipped_weights_match_their_pinned_checksum_and_load_offline() -> None:
    assert WEIGHTS_SHA256 and file_sha256(WEIGHTS) == WEIGHTS_SHA256
    raw = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    assert tuple(raw["features"]) == FEATURES and raw["trees"]
    assert raw["trained"]["halueval_records"] == [0, 1199]  # 1200-1999 pick and check its threshold
    assert shipped_binding().weights.trees


def test_damaged_weights_are_refused_with_a_clear_error(tmp_path: Path) -> None:
    damaged = tmp_path / "binding.json"
    damaged.write_bytes(WEIGHTS.read_bytes()[:-100])
    with pytest.raises(ConfigError, match="SHA-256"):
        BindingWeights.read(damaged, WEIGHTS_SHA256)
    with pytest.raises(ConfigError, match="missing"):
        BindingWeights.read(tmp_path / "gone.json", WEIGHTS_SHA256)
    other = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    other["features"] = ["deficit"]
    damaged.write_text(json.dumps(other), encoding="utf-8")
    with pytest.raises(ConfigError, match="other features"):
        BindingWeights.read(damaged)


@pytest.mark.parametrize("language", sorted(CASES))
def test_it_vetoes_made_up_intrinsic_swaps_that_the_lexical_signal_passes(language: str) -> None:
    lexical = SupportChecker(None, None, frozenset({"lexical"}))
    cascade = SupportChecker(None, None, frozenset({"lexical", "binding"}))
    caught = 0
    for source, question, right, swapped in CASES[language]:
        (passed,) = lexical.check([Claim(swapped, (1,))], [source], question)
        assert passed.verdict == "supported", swapped  # every word of the swap is in the source
        kept, checked = cascade.check([Claim(right, (1,)), Claim(swapped, (1,))], [source], question)
        assert kept.verdict == "supported", right  # the right claim is not vetoed
        assert kept.bound is not None and checked.bound is not None and checked.bound < kept.bound
        caught += checked.verdict == "contradicted" and checked.decided_by == "lexical+binding"
        assert (checked.verdict == "contradicted") == (checked.bound < BINDING_VETO)
    assert caught >= 3, f"{caught} of {len(CASES[language])} swaps caught"


def test_only_grounded_claims_are_scored() -> None:
    cascade = SupportChecker(None, None, frozenset({"lexical", "binding"}))
    (check,) = cascade.check([Claim("Mumbai hosted the final.", (1,))], ["Delhi hosted the final."], "")
    assert check.verdict != "supported" and check.bound is None  # the lexical signal settled it


def test_a_paraphrase_glue_word_from_another_sentence_is_not_a_moved_detail() -> None:
    """The false veto that kept the verifier opt-in: the claim says 使用 where its sentence says 用, and 使用 stands
    in another sentence. Common verbs, adverbs and particles (jieba's dictionary) are not details to bind."""
    source = "ragqa 用结巴分词将中文文本切成词语。用户也可以使用自己的配置文件。"
    cascade = SupportChecker(None, None, frozenset({"lexical", "binding"}))
    (check,) = cascade.check(
        [Claim("ragqa 使用结巴分词将中文文本切成词语。", (1,))], [source], "ragqa 怎样切分中文？"
    )
    assert check.verdict == "supported" and check.bound is not None and check.bound >= BINDING_VETO
    # a name moved the same way is still a detail: it is caught
    named = "海港队的主教练是陈志强。球队的四分卫刘伟在决赛中传出了三次达阵。"
    (moved,) = cascade.check([Claim("海港队的主教练是刘伟。", (1,))], [named], "海港队的主教练是谁？")
    assert moved.verdict == "contradicted"
    # the question's 切分 cut as 切 + 分为 in the claim: the piece of a question word is not a detail either
    asked = "ragqa 用什么方法切分中文文本？"
    docs = "中文文本先用结巴分词切成词语，再建立 BM25 索引。文档按句子切分成不超过两百个词元的片段。"
    (cut,) = cascade.check([Claim("ragqa 用结巴分词将中文文本切分为词语。", (1,))], [docs], asked)
    assert cut.verdict == "supported", cut.bound
    details = {"不", "没有", "未", "陈志强", "美国"}  # negations, names, nouns
    assert {"使用", "进行", "他们"} <= glue_words() and not details & glue_words()


def test_a_copied_source_sentence_or_heading_is_bound() -> None:
    """A claim that says one source sentence's words in its order (here a Markdown heading the model copied) cannot
    have moved a detail, even when the question is about another sentence."""
    source = "# Configuring ragqa\n\nThe data directory, RAGQA_DATA_DIR, holds everything ragqa writes."
    sentences = SourceSentences([source], "What does RAGQA_DATA_DIR hold?")
    assert sentences.copies_a_sentence("Configuring ragqa")
    assert shipped_binding().score_claims(
        ["Configuring ragqa"], [source], "What does RAGQA_DATA_DIR hold?"
    ) == [1.0]
    assert not sentences.copies_a_sentence("Configuring RAGQA_DATA_DIR")  # changed: scored as usual
