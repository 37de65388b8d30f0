from __future__ import annotations

from ragqa.generation.verify.claims import Claim, split_claims


def test_sentences_become_claims_with_their_citations() -> None:
    claims = split_claims("Delhi is the head office[1]. It opened in 1934 [2, 3]. Nothing cites this.")
    assert claims == [
        Claim("Delhi is the head office.", (1,), 0),
        Claim("It opened in 1934.", (2, 3), 1),
        Claim("Nothing cites this.", (), 2),
    ]


def test_clauses_split_and_inherit_the_sentence_citation() -> None:
    claims = split_claims("The group runs hotels in India, but its head office is in Delhi[2].")
    assert [c.text for c in claims] == ["The group runs hotels in India", "but its head office is in Delhi."]
    assert all(c.citations == (2,) for c in claims)
    # a comma before a short tail is not a clause boundary
    assert len(split_claims("He was born in Paris, and raised.")) == 1


def test_a_clause_with_its_own_citation_keeps_only_it() -> None:
    claims = split_claims("BM25 ranks by term statistics[1]; dense search ranks by embeddings[2].")
    assert [c.citations for c in claims] == [(1,), (2,)]


def test_chinese_sentences_and_clauses() -> None:
    claims = split_claims(
        "ragqa 使用结巴分词处理中文【1】。它把稀疏检索和稠密检索融合，但是不需要网络连接[2]。"
    )
    assert [c.citations for c in claims] == [(1,), (2,), (2,)]
    assert claims[0].text == "ragqa 使用结巴分词处理中文。"
    assert claims[2].text.startswith("但是不需要网络")


def test_markers_alone_make_no_claim() -> None:
    assert split_claims("[1].") == []
    assert split_claims("") == []


def test_an_attribution_sentence_is_no_claim_and_cites_the_claims_before_it() -> None:
    claims = split_claims(
        "The Panthers defense surrendered 308 points. This information is found in [1] and [2]."
    )
    assert claims == [Claim("The Panthers defense surrendered 308 points.", (1, 2), 0)]
    # only the uncited claims since the last cited one take the attribution's citations
    claims = split_claims("Allen had 136 sacks[3]. Short had 11. Norman had four. This is supported by [1].")
    assert [c.citations for c in claims] == [(3,), (1,), (1,)]
    # a sentence that names something beyond the sources is a claim, not an attribution
    assert len(split_claims("Allen had 136 sacks. This was found in 2015 by the league [1].")) == 2


def test_a_chinese_attribution_sentence_is_no_claim() -> None:
    claims = split_claims("黑豹队的防守丢了308分。以上信息来自【1】和【2】。")
    assert claims == [Claim("黑豹队的防守丢了308分。", (1, 2), 0)]
    assert split_claims("这一信息可以在[2]中找到。") == []


def test_an_uncited_answer_made_of_attribution_words_stays_a_claim() -> None:
    assert split_claims("Both.") == [Claim("Both.", (), 0)]


def test_an_opening_that_names_the_cited_source_is_not_part_of_the_claim() -> None:
    assert split_claims("According to [2], the Panthers gave up 308 points.") == [
        Claim("the Panthers gave up 308 points.", (2,), 0)
    ]
    assert (
        split_claims("According to source [4], Kuechly made 118 tackles.")[0].text
        == "Kuechly made 118 tackles."
    )
    claim = split_claims("According to [1], [2], and [3], Coleman had seven interceptions.")[0]
    assert claim == Claim("Coleman had seven interceptions.", (1, 2, 3), 0)
    assert split_claims("根据【1】和【2】所述，北京是中国的首都。")[0] == Claim(
        "北京是中国的首都。", (1, 2), 0
    )
    # an opening without a citation is the answer's own wording, and stays
    assert split_claims("According to the report, sales rose by 5% [1].")[0].text.startswith("According to")
    assert split_claims("In 2015 [1], the team won.")[0].text == "In 2015, the team won."
