"""``ragqa eval swaps`` as a user runs it: right and wrong answers made from XQuAD, and what the checker flags."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _swaps(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ragqa.cli", "eval", "swaps", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )


def test_swaps_report_from_the_command(shared_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "swaps"
    squad = str(shared_data / "xquad" / "xquad.en.json")
    proc = _swaps("--squad", squad, "--articles", "0-0", "--limit", "40", "--out", str(out),
                  "--data-dir", str(tmp_path / "data"))  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((out / "report.json").read_text())
    m = report["metrics"]
    assert m["examples"] == 40 and report["config"]["articles"] == [0]
    kinds = report["config"]["kinds"]
    assert kinds["gold"] > 0 and kinds["intrinsic"] > 0 and kinds["extrinsic"] > 0
    # a span from another article brings words the paragraph lacks: word overlap flags nearly all of them,
    # while it passes the gold answers
    assert m["lexical+embedding.flagged.extrinsic"] >= 0.8 and m["lexical+embedding.flagged.gold"] <= 0.2
    # the binding verifier only adds vetoes: it flags every swap word overlap flags, and no more gold answers
    # than the 0.5% of CMRC's it flagged at its threshold (none of these 40)
    for i in report["items"]:
        assert i["lexical+embedding+binding"] >= i["lexical+embedding"]
        assert i["lexical+embedding+binding+kind"] >= i["lexical+embedding+binding"]  # the kind check too
    assert m["lexical+embedding+binding.flagged.gold"] == 0.0
    assert m["lexical+embedding+binding+kind.flagged.gold"] == 0.0
    # the shipped span reader joins as its own row, on top of the served checks: it only adds refusals
    for i in report["items"]:
        assert i["lexical+embedding+binding+kind+reader"] >= i["lexical+embedding+binding+kind"]
    items = report["items"]
    assert len(items) == 40 and all(isinstance(i["lexical+embedding"], bool) for i in items)
    bad = _swaps("--squad", squad, "--articles", "x-y")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and "is not A or A-B" in bad.stderr


def test_a_trained_verifier_is_measured_with_a_sweep_of_its_thresholds(
    shared_data: Path, tiny_verifier: Path, tmp_path: Path
) -> None:
    """``--verifier`` measures a model folder (what a training run just wrote); ``--sweep`` adds one row per
    veto/promote pair, to pick them on a validation slice."""
    from ragqa.eval.halueval import READER_VETOES
    from ragqa.eval.swaps import SWEEP_BINDING_VETOES, SWEEP_PROMOTES, SWEEP_VETOES

    out, data = tmp_path / "swaps", str(tmp_path / "data")
    squad = str(shared_data / "xquad" / "xquad.en.json")
    proc = _swaps("--squad", squad, "--articles", "0-0", "--limit", "12", "--verifier", str(tiny_verifier),
                  "--sweep", "--out", str(out), "--data-dir", data)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((out / "report.json").read_text())
    rows = report["tables"][0]["rows"]
    reader_rows = 1 + len(READER_VETOES)  # the shipped span reader, and its vetoes swept
    assert len(rows) == 4 + len(SWEEP_BINDING_VETOES) + reader_rows + len(SWEEP_VETOES) * len(SWEEP_PROMOTES)
    names = [r[0] for r in rows]
    assert names[:3] == ["lexical+embedding", "lexical+embedding+binding", "lexical+embedding+binding+kind"]
    assert "lexical+embedding+learned" in names and "binding veto 0.2" in names and "reader veto 0.1" in names
    m = report["metrics"]
    assert 0.0 <= m["learned alone.accuracy"] <= 1.0 and "learned veto 0.5 promote 0.5.recall" in m
    no_model = _swaps("--squad", squad, "--articles", "0-0", "--limit", "4",
                      "--verifier", str(tmp_path / "nothing"), "--data-dir", data)  # fmt: skip
    assert no_model.returncode != 0 and "Traceback" not in no_model.stderr
    assert "missing or unreadable" in no_model.stderr
