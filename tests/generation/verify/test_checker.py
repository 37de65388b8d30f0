"""The claim checker with the real embedder and, for the LLM signal, the real default model."""

from __future__ import annotations

import pytest

from ragqa.config import load_settings
from ragqa.eval.faithfulness import check_answer
from ragqa.generation.llamacpp_backend import LlamaCppBackend
from ragqa.generation.verify.checker import ALL_SIGNALS, SupportChecker
from ragqa.generation.verify.claims import Claim, split_claims
from ragqa.generation.verify.judge import LLMJudge, parse_verdict
from ragqa.generation.verify.similarity import SentenceMatcher
from ragqa.retrieval.embedders import MULTILINGUAL, Embedder, get_embedder

SOURCES = [
    "The Oberoi Group is a hotel company with its head office in Delhi. It was founded in 1934 by Mohan Singh Oberoi.",
    "The Eiffel Tower is a wrought-iron lattice tower in Paris. It is 330 metres tall.",
]
QUESTION = "Where is the head office of the Oberoi Group?"


@pytest.fixture(scope="module")
def matcher(embedder: Embedder) -> SentenceMatcher:
    return SentenceMatcher(embedder)


def test_cheap_signals_sort_supported_contradicted_and_unverifiable(matcher: SentenceMatcher) -> None:
    checker = SupportChecker(matcher, None, frozenset({"lexical", "embedding"}))
    claims = [
        Claim("The head office is in Delhi.", (1,)),
        Claim("The Oberoi Group has its head office in Mumbai.", (1,)),
        Claim("Its chef won three Michelin stars for vegan cuisine.", ()),
    ]
    checks = checker.check(claims, SOURCES, QUESTION)
    assert [c.verdict for c in checks] == ["supported", "contradicted", "unverifiable"]
    assert checks[0].match is not None and checks[0].match.source == 0
    assert "Delhi" in checks[0].match.sentence
    assert checks[1].lexical is not None and checks[1].lexical.missing_names == ("Mumbai",)


def test_faithfulness_and_citation_metrics(matcher: SentenceMatcher) -> None:
    checker = SupportChecker(matcher, None, frozenset({"lexical", "embedding"}))
    answer = "The head office is in Delhi[2]. The tower is 330 metres tall[2]. The group was founded in 1950."
    check = check_answer(checker, answer, SOURCES, question=QUESTION)
    assert [c.verdict for c in check.claims] == ["supported", "supported", "contradicted"]
    assert check.faithfulness == pytest.approx(2 / 3) and check.contradicted == pytest.approx(1 / 3)
    assert check.hallucinated
    assert check.citation_precision == pytest.approx(0.5)  # [2] does not say where the head office is
    assert check.citation_recall == 1.0  # both supported claims carry a citation


def test_refusals_are_scored_never_nan(matcher: SentenceMatcher) -> None:
    checker = SupportChecker(matcher, None, frozenset({"lexical", "embedding"}))
    check = check_answer(checker, "The documents do not say.", SOURCES, refused=True)
    assert check.faithfulness == 1.0 and not check.hallucinated and check.claims == []
    assert check.metrics()["citation_precision"] is None  # no citation to judge, explicitly


def test_each_signal_alone_gives_a_verdict(matcher: SentenceMatcher) -> None:
    claims = split_claims("The Oberoi Group has its head office in Delhi.")
    for signals in ({"lexical"}, {"embedding"}):
        (check,) = SupportChecker(matcher, None, frozenset(signals)).check(claims, SOURCES, QUESTION)  # type: ignore[arg-type]
        assert check.verdict == "supported", signals
    with pytest.raises(ValueError, match="needs a judge"):
        SupportChecker(matcher, None, frozenset({"llm"}))


def test_parse_verdict() -> None:
    assert parse_verdict("SUPPORTED.") == "supported"
    assert parse_verdict("contradicted") == "contradicted"
    assert parse_verdict("Unverifiable") == "unverifiable"
    assert parse_verdict("I think so") is None


def test_llm_judge_on_the_default_model(default_backend: LlamaCppBackend, matcher: SentenceMatcher) -> None:
    judge = LLMJudge(default_backend)
    assert judge.verdict("The head office is in Delhi.", SOURCES[:1], QUESTION) == "supported"
    assert judge.verdict("The Eiffel Tower is 20 metres tall.", SOURCES[1:]) != "supported"
    # in the full cascade the judge is asked only about the uncertain band
    checker = SupportChecker(matcher, judge, ALL_SIGNALS)
    calls = judge.calls
    (clear,) = checker.check(split_claims("The head office is in Delhi."), SOURCES, QUESTION)
    assert judge.calls == calls and clear.decided_by == "lexical"  # settled without the LLM
    (uncertain,) = checker.check(
        split_claims("The Oberoi Group has its headquarters in Delhi."), SOURCES, QUESTION
    )
    assert uncertain.lexical is not None and 0.5 <= uncertain.lexical.coverage < 0.9
    assert judge.calls == calls + 1 and uncertain.decided_by == "llm" and uncertain.judge == uncertain.verdict


def test_a_close_chinese_paraphrase_is_supported_with_e5(matcher: SentenceMatcher) -> None:
    # jieba splits a paraphrase into words the source lacks (coverage in the uncertain band); with e5, a claim
    # that close to a source sentence is supported, while a changed fact in the band stays unverifiable
    e5 = SentenceMatcher(get_embedder(load_settings(), MULTILINGUAL))
    sources = ["光合作用被理解为植物利用阳光把水和二氧化碳转化为养分的过程。它主要发生在叶片的叶绿体中。"]
    question = "植物利用阳光制造养分的过程叫什么？"
    paraphrase, changed = "植物利用阳光制造养分的过程被称作光合作用。", "光合作用主要发生在根部的细胞中。"
    checker = SupportChecker(e5, None)
    kept, wrong = checker.check(split_claims(paraphrase + changed), sources, question)
    assert kept.lexical is not None and kept.lexical.coverage < 0.9  # not settled by the words alone
    assert (kept.verdict, kept.decided_by) == ("supported", "lexical+embedding")
    assert wrong.verdict == "unverifiable"
    # MiniLM keeps the English cascade: the same paraphrase is not supported on its words
    assert SupportChecker(matcher, None).check(split_claims(paraphrase), sources, question)[0].verdict != (
        "supported"
    )


def test_titles_ground_names_and_strewn_words_do_not(matcher: SentenceMatcher) -> None:
    """A source's title is part of what the prompt showed ("Nikola_Tesla"); a claim built from two unrelated
    sources' words is not supported however complete its words are."""
    checker = SupportChecker(matcher, None, frozenset({"lexical", "embedding"}))
    sources = [
        "After leaving Edison's company Tesla partnered with two businessmen in 1886, Robert Lane and Benjamin Vail.",
        "Lady Gaga performed the national anthem. The crowd cheered.",
        "The United Methodist Church is a mainline denomination. It was founded in 1968.",
    ]
    titles = ["Nikola_Tesla", "Super_Bowl_50", "United_Methodist_Church"]
    named = [Claim("Robert Lane and Benjamin Vail partnered with Nikola Tesla in 1886.", (1,))]
    assert checker.check(named, sources, "Who did Tesla partner with in 1886?")[0].verdict == "contradicted"
    assert (
        checker.check(named, sources, "Who did Tesla partner with in 1886?", titles)[0].verdict == "supported"
    )
    strewn = [Claim("Lady Gaga's national anthem was sung by the United Methodist Church.", (2, 3))]
    (check,) = checker.check(strewn, sources, "Who sang the national anthem?", titles)
    assert check.lexical is not None and check.lexical.coverage == 1.0
    assert check.verdict == "unverifiable"
