from __future__ import annotations

from ragqa.eval.claims import Claim, split_claims


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
