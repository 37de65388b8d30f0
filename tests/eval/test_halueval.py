"""Checker validation on real HaluEval records, through the function and through the ``ragqa`` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ragqa.errors import InputError
from ragqa.eval.halueval import detection_metrics, load_halueval, run_halueval
from ragqa.generation.llamacpp_backend import LlamaCppBackend
from ragqa.generation.verify.judge import LLMJudge
from ragqa.generation.verify.similarity import SentenceMatcher
from ragqa.retrieval.embedders import Embedder


def test_detection_metrics() -> None:
    m = detection_metrics([(True, True), (True, False), (False, False), (False, True), (False, False)])
    assert (m["tp"], m["fn"], m["tn"], m["fp"]) == (1, 1, 2, 1)
    assert m["accuracy"] == pytest.approx(3 / 5) and m["precision"] == 0.5 and m["recall"] == 0.5


def test_cheap_signals_on_real_records(embedder: Embedder, halueval_small: Path, tmp_path: Path) -> None:
    report = run_halueval(
        halueval_small, SentenceMatcher(embedder), None, out=tmp_path / "run", binding=True, kind=True
    )
    m = report.metrics
    assert m["answers"] == 60 and m["tp"] + m["fp"] + m["tn"] + m["fn"] == 60
    assert m["accuracy"] >= 0.75 and m["f1"] >= 0.7  # lexical grounding alone is ~0.86 on records 0-399
    assert m["llm_calls"] == 0
    ablation = next(t for t in report.tables if t.title.startswith("Ablation"))
    names = ["lexical", "embedding", "lexical+embedding", "lexical+binding", "lexical+embedding+binding"]
    names += ["lexical+embedding+kind", "lexical+embedding+binding+kind"]
    assert [r[0] for r in ablation.rows] == names
    assert report.config["signals"] == ["binding", "embedding", "kind", "lexical"]  # as served
    rows = {r[0]: r for r in ablation.rows}
    assert rows["lexical+embedding+binding+kind"][2] == pytest.approx(m["accuracy"])  # the main run's row
    grid = next(t for t in report.tables if t.title.startswith("Binding verifier thresholds"))
    assert [r[0] for r in grid.rows] == [0.05, 0.1, 0.15, 0.2, 0.3]
    data = json.loads((tmp_path / "run" / "report.json").read_text())
    assert data["kind"] == "hallucination" and set(data["metrics"]) >= {
        "accuracy",
        "precision",
        "recall",
        "f1",
    }
    assert len(data["items"]) == 60 and all(i["claims"] for i in data["items"])
    assert (tmp_path / "run" / "report.md").read_text().startswith("# hallucination eval")


def test_judge_joins_in_the_uncertain_band(
    embedder: Embedder, default_backend: LlamaCppBackend, halueval_small: Path, tmp_path: Path
) -> None:
    records = halueval_small.read_text().splitlines()[:4]
    small = tmp_path / "four.jsonl"
    small.write_text("\n".join(records) + "\n")
    report = run_halueval(
        small, SentenceMatcher(embedder), LLMJudge(default_backend), judge_sample=2, out=tmp_path / "r"
    )
    ablation = next(t for t in report.tables if t.title.startswith("Ablation"))
    rows = {r[0]: r for r in ablation.rows}
    assert rows["llm"][1] == 4  # LLM alone on the 2-record sample: 4 answers
    assert rows["lexical+embedding+llm"][1] == 8
    assert report.latency_ms["llm judge call"]  # every real call timed


def test_bad_files_are_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"knowledge": "k", "question": "q", "right_answer": "a", "hallucinated_answer": "b"}\n{oops\n'
    )
    with pytest.raises(InputError, match=r"bad.jsonl:2: invalid JSON"):
        load_halueval(bad)
    bad.write_text('{"knowledge": "k", "question": "q"}\n')
    with pytest.raises(InputError, match="not a HaluEval QA record"):
        load_halueval(bad)
    with pytest.raises(InputError, match="no such HaluEval file"):
        load_halueval(tmp_path / "missing.jsonl")


def test_cli_hallucination_and_compare(halueval_small: Path, tmp_path: Path) -> None:
    env = {**os.environ, "RAGQA_DATA_DIR": str(tmp_path / "data")}

    def ragqa(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ragqa.cli", *args], env=env, capture_output=True, text=True, timeout=300
        )

    for name, limit in (("a", "10"), ("b", "30")):
        proc = ragqa(
            "eval",
            "hallucination",
            "--halueval",
            str(halueval_small),
            "--limit",
            limit,
            "--no-judge",
            "--out",
            str(tmp_path / name),
        )
        assert proc.returncode == 0, proc.stderr
        assert "accuracy" in proc.stdout and (tmp_path / name / "report.html").is_file()
    proc = ragqa("eval", "compare", str(tmp_path / "a"), str(tmp_path / "b"), "--json")
    assert proc.returncode == 0, proc.stderr
    deltas = {d["metric"]: d for d in json.loads(proc.stdout.split("\ncomparison:")[0])["deltas"]}
    assert deltas["answers"]["a"] == 20 and deltas["answers"]["b"] == 60 and deltas["answers"]["delta"] == 40
    assert (tmp_path / "b" / "compare" / "compare.html").read_text().count("<tr") == len(deltas) + 1
    # a folder without a report is a clear error, not a traceback
    proc = ragqa("eval", "compare", str(tmp_path / "a"), str(tmp_path / "nothing"))
    assert proc.returncode != 0 and "no report at" in proc.stderr


def test_start_keeps_each_records_index(shared_data: Path) -> None:
    records = load_halueval(shared_data / "halueval" / "qa_dev.jsonl", 3, start=1600)
    assert [r.index for r in records] == [1600, 1601, 1602]
    assert (
        records[0].question == load_halueval(shared_data / "halueval" / "qa_dev.jsonl", 1601)[1600].question
    )


def test_a_trained_verifier_folder_is_measured(
    halueval_small: Path, tiny_verifier: Path, tmp_path: Path
) -> None:
    """``--verifier`` measures the model a training run just wrote: its signal joins the checker, and the
    ablation and threshold tables get its rows; a folder without a model is a clear error."""
    env = {**os.environ, "RAGQA_DATA_DIR": str(tmp_path / "data")}
    base = [sys.executable, "-m", "ragqa.cli", "eval", "hallucination", "--halueval", str(halueval_small)]
    args = ["--limit", "4", "--no-judge", "--out", str(tmp_path / "run"), "--verifier", str(tiny_verifier)]
    proc = subprocess.run([*base, *args], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert "learned" in report["config"]["signals"]
    ablation = {r[0] for r in report["tables"][1]["rows"]}
    assert {"learned", "lexical+embedding+learned"} <= ablation
    assert report["tables"][2]["title"].startswith("Learned verifier thresholds")
    args[-1] = str(tmp_path / "nothing")
    proc = subprocess.run([*base, *args], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr and "missing or unreadable" in proc.stderr
