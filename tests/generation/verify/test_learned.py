"""The learned claim verifier's pipeline, end to end on a tiny model trained here: synthetic examples from the
shared data, fine-tuning, OpenVINO export with a checksummed manifest, loading, scoring and its place in the
checker's cascade. (What the shipped model catches: test_shipped_verifier.py.)"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from ragqa.errors import ConfigError
from ragqa.eval.verifier_data import squad_examples
from ragqa.generation.verify.checker import SupportChecker
from ragqa.generation.verify.claims import Claim
from ragqa.generation.verify.learned import LearnedVerifier, Manifest, evidence_window
from ragqa.hashing import file_sha256

SOURCE = (
    "The Lindqvist Observatory stands on a hill above the town of Varberg. Maria Keller founded the observatory "
    "in 1931, and her student Tomas Brandt directed it from 1948 until 1960."
)
QUESTION = "Who founded the Lindqvist Observatory?"
RIGHT = "Maria Keller founded the Lindqvist Observatory in 1931."


@pytest.fixture
def tiny_model(tiny_verifier: Path) -> Path:
    return tiny_verifier


def test_examples_are_matched_right_and_wrong_pairs(shared_data: Path) -> None:
    examples = squad_examples(shared_data / "xquad" / "xquad.en.json", {7}, seed=0)
    kinds = Counter((e.kind, e.supported) for e in examples)
    assert kinds[("gold", True)] > 10 and kinds[("intrinsic", False)] > 10 and kinds[("sentence", True)] > 10
    first = next(e for e in examples if e.kind == "intrinsic")
    gold = next(e for e in examples if e.kind == "gold" and e.question == first.question)
    assert first.claim != gold.claim and first.claim in first.sources[0]  # a wrong span of the same paragraph
    assert squad_examples(shared_data / "xquad" / "xquad.en.json", {7}, seed=0) == examples  # seeded


def test_the_trained_model_matches_its_manifest(tiny_model: Path) -> None:
    manifest = Manifest.read(tiny_model)
    assert file_sha256(tiny_model / "model.bin") == manifest.sha256
    assert manifest.tokenizer == "minilm" and manifest.trained["examples"] == 48
    assert manifest.trained["halueval_records"] is None and list(
        manifest.trained["squad_articles"].values()
    ) == [[7, 47]]
    assert json.loads((tiny_model / "manifest.json").read_text())["max_tokens"] == manifest.max_tokens


def test_damaged_or_missing_weights_are_refused_with_a_clear_error(tiny_model: Path, tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(tiny_model, copy)
    with (copy / "model.bin").open("r+b") as fh:
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ConfigError, match="SHA-256"):
        LearnedVerifier(copy).load()
    shutil.rmtree(copy)
    assert not LearnedVerifier(copy).available()
    with pytest.raises(ConfigError, match="missing or unreadable"):
        LearnedVerifier(copy).load()


def test_the_evidence_window_holds_the_sentences_that_share_the_claims_words() -> None:
    window = evidence_window(RIGHT, QUESTION, ["Rivers run to the sea. Rain falls. Snow melts. " * 2, SOURCE])
    assert "Maria Keller founded" in window and "Rivers" not in window


def test_scores_are_probabilities_and_chinese_is_left_to_the_other_signals(tiny_model: Path) -> None:
    scores = LearnedVerifier(tiny_model).score_claims(
        ["洛阳是中国的古都之一。", RIGHT], ["洛阳是中国的古都之一。", SOURCE]
    )
    assert scores[0] is None and scores[1] is not None and 0.0 < scores[1] < 1.0


def test_the_learned_signal_can_veto_a_grounded_claim(tiny_model: Path) -> None:
    """Wiring of the cascade: a veto threshold above any score contradicts every grounded claim, one of 0 none."""
    learned = LearnedVerifier(tiny_model)
    claims = [Claim(RIGHT, (1,))]
    signals = frozenset({"lexical", "learned"})
    (kept,) = SupportChecker(None, None, signals, learned=learned, veto=0.0).check(claims, [SOURCE], QUESTION)
    assert kept.verdict == "supported" and kept.learned is not None
    (vetoed,) = SupportChecker(None, None, signals, learned=learned, veto=1.01).check(
        claims, [SOURCE], QUESTION
    )
    assert vetoed.verdict == "contradicted" and vetoed.decided_by == "lexical+learned"
    assert vetoed.to_json()["learned"] == round(kept.learned, 4)


@pytest.fixture(scope="module")
def tiny_multilingual_model(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``ragqa train verifier --base e5-multilingual`` on 16 Chinese examples, one epoch."""
    out = tmp_path_factory.mktemp("verifier-e5") / "model"
    proc = subprocess.run(
        [sys.executable, "-m", "ragqa.cli", "train", "verifier", "--base", "e5-multilingual",
         "--squad", str(shared_data / "xquad" / "xquad.zh.json"), "--out", str(out), "--epochs", "1",
         "--limit", "16"],
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


def test_a_multilingual_model_scores_chinese_claims(tiny_multilingual_model: Path) -> None:
    manifest = Manifest.read(tiny_multilingual_model)
    assert manifest.tokenizer == "e5-multilingual" and manifest.trained["examples"] == 16
    assert file_sha256(tiny_multilingual_model / "model.bin") == manifest.sha256
    verifier = LearnedVerifier(tiny_multilingual_model)
    sources = ["北京是中国的首都，也是政治和文化中心。上海是最大的城市。"]
    scores = verifier.score_claims(
        ["北京是中国的首都。", "Beijing is the capital."], sources, "中国的首都是哪里？"
    )
    assert all(isinstance(s, float) and 0.0 <= s <= 1.0 for s in scores)  # Chinese is read, not skipped
    # the Chinese evidence window is picked by shared character pairs: the Beijing sentence, not Shanghai's
    assert (
        evidence_window("北京是中国的首都", "", sources[0].split("。"))
        == "北京是中国的首都，也是政治和文化中心"
    )
