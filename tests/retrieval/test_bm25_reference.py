"""bm25s (our engine) against rank-bm25 (the card's reference) on real SciFact abstracts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from ragqa.retrieval.bm25_index import BM25Index
from ragqa.retrieval.lexical import LexicalTokenizer


@pytest.fixture(scope="module")
def scifact(shared_data: Path) -> tuple[list[list[str]], list[list[str]]]:
    tok = LexicalTokenizer()
    docs = []
    with (shared_data / "scifact" / "corpus.jsonl").open() as fh:
        for _, line in zip(range(1500), fh, strict=False):
            rec = json.loads(line)
            docs.append(tok.tokenize(f"{rec['title']}\n{rec['text']}"))
    queries = []
    with (shared_data / "scifact" / "queries.jsonl").open() as fh:
        for _, line in zip(range(60), fh, strict=False):
            queries.append(tok.tokenize(json.loads(line)["text"]))
    return docs, queries


def test_robertson_scores_equal_bm25okapi_up_to_a_constant(scifact) -> None:
    docs, queries = scifact
    reference = BM25Okapi(docs, k1=1.5, b=0.75, epsilon=0.0)
    ours = BM25Index(k1=1.5, b=0.75, method="robertson")
    ours.build(list(range(len(docs))), docs)
    assert ours._model is not None
    for q in queries:
        known = [t for t in q if t in ours._model.vocab_dict]
        if not known:
            continue
        a = reference.get_scores(q)
        b = ours._model.get_scores(known)
        mask = a > 0
        ratio = b[mask] / a[mask]
        assert np.allclose(ratio, ratio[0], rtol=1e-4)  # same ranking, constant factor (bm25s folds in k1+1)
        top_ref = np.argsort(-a, kind="stable")[:10]
        assert [vid for vid, _ in ours.search(q, 10)] == top_ref[a[top_ref] > 0].tolist()


def test_unknown_and_empty_queries_return_nothing() -> None:
    index = BM25Index(k1=0.9, b=0.4, method="lucene")
    index.build([5, 6], [["alpha", "beta"], ["gamma"]])
    assert index.search([], 5) == []
    assert index.search(["zzz"], 5) == []
    assert [v for v, _ in index.search(["gamma", "zzz"], 5)] == [6]
