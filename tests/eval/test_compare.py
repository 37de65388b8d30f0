from __future__ import annotations

from pathlib import Path

import pytest

from ragqa.errors import InputError
from ragqa.eval.compare import compare_reports, lower_is_better
from ragqa.eval.report import Report


def _run(tmp_path: Path, name: str, kind: str, **metrics: float) -> Path:
    Report(kind, "set", dict(metrics), {}).write(tmp_path / name)
    return tmp_path / name


def test_deltas_know_which_direction_is_better(tmp_path: Path) -> None:
    a = _run(tmp_path, "a", "qa", token_f1=0.10, p50_ms=900.0, unverifiable=0.2, refusal_rate=0.3)
    b = _run(tmp_path, "b", "qa", token_f1=0.15, p50_ms=1200.0, unverifiable=0.1, refusal_rate=0.3)
    rows = {r[0]: r for r in compare_reports(a, b).rows}
    assert rows["token_f1"][3] == pytest.approx(0.05) and rows["token_f1"][4] == "better"
    assert rows["p50_ms"][4] == "worse" and rows["unverifiable"][4] == "better"
    assert rows["refusal_rate"][4] == "same"
    assert lower_is_better("p99_ms") and not lower_is_better("f1")
    assert lower_is_better("refusal_rate") and lower_is_better("raw.refusal_rate")  # answerable refused
    assert not lower_is_better("correct_refusal_rate") and not lower_is_better("raw.correct_refusal_rate")


def test_reports_of_different_kinds_do_not_compare(tmp_path: Path) -> None:
    a = _run(tmp_path, "a", "qa", f1=0.5)
    b = _run(tmp_path, "b", "retrieval", f1=0.5)
    with pytest.raises(InputError, match="cannot compare"):
        compare_reports(a, b)
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "report.json").write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        compare_reports(a, tmp_path / "c")
