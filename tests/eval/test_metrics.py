import math

import pytest

from ragqa.eval.metrics import ranking_metrics


def test_metrics_match_hand_computed_values() -> None:
    qrels = {"q1": {"d1": 1, "d3": 1}, "q2": {"d9": 1}, "q3": {"d5": 1}}
    run = {
        "q1": {"d2": 3.0, "d1": 2.0, "d3": 1.0},  # relevant at ranks 2 and 3
        "q2": {"d9": 5.0},  # relevant at rank 1
        "q3": {},  # nothing retrieved
    }
    m = ranking_metrics(qrels, run)
    idcg = 1 + 1 / math.log2(3)
    ndcg_q1 = (1 / math.log2(3) + 1 / math.log2(4)) / idcg
    assert m["ndcg@10"] == pytest.approx((ndcg_q1 + 1 + 0) / 3)
    assert m["recall@100"] == pytest.approx((1 + 1 + 0) / 3)
    assert m["mrr@10"] == pytest.approx((0.5 + 1 + 0) / 3)
    assert m["hit@1"] == pytest.approx(1 / 3)


def test_mrr_is_cut_at_ten() -> None:
    run = {"q": {f"d{i}": float(100 - i) for i in range(20)}}
    m = ranking_metrics({"q": {"d15": 1}}, run)
    assert m["mrr@10"] == 0 and m["recall@100"] == 1
