import pytest

from ragqa.retrieval.fusion import reciprocal_rank_fusion


def test_rrf_uses_k60_and_one_based_ranks() -> None:
    fused = reciprocal_rank_fusion({"bm25": ["a", "b", "c"], "dense": ["b", "d"]})
    scores = {f.key: f.score for f in fused}
    assert scores["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert scores["a"] == pytest.approx(1 / 61)
    assert scores["d"] == pytest.approx(1 / 62)
    assert scores["c"] == pytest.approx(1 / 63)
    assert [f.key for f in fused] == ["b", "a", "d", "c"]
    assert fused[0].ranks == {"bm25": 2, "dense": 1}
    assert fused[1].ranks == {"bm25": 1}  # absent from dense: contributes nothing from it


def test_ties_break_on_best_rank_then_list_order() -> None:
    fused = reciprocal_rank_fusion({"x": ["a", "b"], "y": ["b", "a"]})
    assert fused[0].score == fused[1].score
    assert [f.key for f in fused] == ["a", "b"]


def test_custom_k_and_duplicates_ignored() -> None:
    fused = reciprocal_rank_fusion({"x": ["a", "a", "b"]}, k=1)
    assert [(f.key, f.score) for f in fused] == [("a", 0.5), ("b", 0.25)]
    with pytest.raises(ValueError):
        reciprocal_rank_fusion({"x": ["a"]}, k=0)
