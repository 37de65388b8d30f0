"""The served view of eval rows and the operating-point table, on hand-made rows."""

from __future__ import annotations

from ragqa.eval.served import operating_points, served_view, unanswerable_safe_rate


def _row(coverages: list[float], gold_recall: float = 1.0, refused: bool = False) -> dict:
    claims = [
        {"coverage": c, "missing": [], "verdict": "supported" if c >= 0.9 else "unverifiable"}
        for c in coverages
    ]
    return {"status": "ok", "refused": refused, "claims": claims, "gold_recall": gold_recall}


def test_operating_points_trade_answers_for_refusals() -> None:
    rows = [_row([1.0]), _row([0.75]), _row([0.55, 0.6], gold_recall=0.0), _row([], refused=True)]
    blind = [_row([0.95]), _row([0.65]), _row([0.4])]
    table = operating_points(rows, blind, [0.5, 0.7, 0.9], "coverage")
    assert table == [
        ["0.50", 0.75, 0.5, 0.3333],
        ["0.70", 0.5, 0.5, 0.6667],
        ["0.90 (chosen)", 0.25, 0.25, 0.6667],
    ]


def test_operating_points_by_locality() -> None:
    """A fully covered claim whose words are strewn over passages (low locality) is dropped above its value."""

    def local(locality: float, gold_recall: float = 1.0) -> dict:
        claim = {"coverage": 1.0, "locality": locality, "missing": [], "verdict": "supported"}
        return {"status": "ok", "refused": False, "claims": [claim], "gold_recall": gold_recall}

    rows, blind = [local(1.0), local(0.65)], [local(0.4, 0.0), local(0.55, 0.0), local(1.0, 0.0)]
    assert operating_points(rows, blind, [0.0, 0.6, 0.7], "locality") == [
        ["0.00", 1.0, 1.0, 0.0],
        ["0.60 (chosen)", 1.0, 1.0, 0.6667],
        ["0.70", 0.5, 0.5, 0.6667],
    ]


def test_served_view_and_safe_rate() -> None:
    raw = {"answer": "x [1].", "refused": False, "status": "ok", "hallucinated": True}
    served = {**raw, "served": {"answer": "I don't know.", "refused": True, "hallucinated": False}}
    assert served_view([served])[0]["refused"] and served_view([raw])[0] == raw
    assert unanswerable_safe_rate([raw]) == 0.0 and unanswerable_safe_rate(served_view([served])) == 1.0
