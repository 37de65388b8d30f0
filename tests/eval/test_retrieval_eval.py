from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ragqa.config import Settings
from ragqa.eval.retrieval_eval import run_retrieval_eval


@pytest.fixture
def small_squad(shared_data: Path, tmp_path: Path) -> Path:
    """The first two XQuAD-zh articles (10 paragraphs), written to a temporary file for the run."""
    data = json.loads((shared_data / "xquad" / "xquad.zh.json").read_text(encoding="utf-8"))
    path = tmp_path / "xquad-zh-small.json"
    path.write_text(
        json.dumps({"data": data["data"][:2], "version": "1.1"}, ensure_ascii=False), encoding="utf-8"
    )
    return path


def test_squad_retrieval_report(settings: Settings, small_squad: Path, tmp_path: Path) -> None:
    report = run_retrieval_eval(settings, squad=small_squad, mode="all", out=tmp_path / "out")
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert set(data["modes"]) == {"bm25", "dense", "hybrid"}
    for metrics in data["modes"].values():
        assert set(metrics) >= {"ndcg@10", "recall@100", "mrr@10", "hit@1", "p50_ms", "p99_ms"}
        assert 0 <= metrics["hit@1"] <= 1 and metrics["p99_ms"] >= metrics["p50_ms"] > 0
    assert data["queries"] > 25
    assert data["modes"]["bm25"]["hit@1"] >= 0.8  # jieba-segmented BM25 finds the paragraph
    assert data["modes"]["hybrid"]["recall@100"] == 1.0  # 10 paragraphs: every one is retrieved
    assert "bm25" in report.text_summary() and data["ingest"]["documents_added"] == 10

    again = run_retrieval_eval(settings, squad=small_squad, mode="bm25", out=tmp_path / "out2")
    assert again.extra["ingest"]["files_unchanged"] == 1 and again.extra["ingest"]["chunks_embedded"] == 0
    assert again.extra["modes"]["bm25"]["hit@1"] == pytest.approx(data["modes"]["bm25"]["hit@1"])

    # the data set copied again: same bytes, new path and mtime
    copied = tmp_path / "copied" / small_squad.name
    copied.parent.mkdir()
    copied.write_bytes(small_squad.read_bytes())
    os.utime(copied, ns=(1, 1))
    reused = run_retrieval_eval(settings, squad=copied, mode="bm25", out=tmp_path / "out3")
    assert reused.extra["ingest"]["chunks_embedded"] == 0 and reused.extra["ingest"]["documents_added"] == 0
    assert reused.config["collection"] == data["config"]["collection"]
