"""Embedders against the fp32 torch reference, on real SciFact text."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ragqa.config import Settings
from ragqa.retrieval.embedders import (
    MULTILINGUAL,
    SentenceTransformerEmbedder,
    choose_embedder,
    get_embedder,
)


@pytest.fixture(scope="module")
def scifact_text(shared_data: Path) -> tuple[list[str], list[str]]:
    docs = []
    with (shared_data / "scifact" / "corpus.jsonl").open() as fh:
        for _, line in zip(range(100), fh, strict=False):
            rec = json.loads(line)
            docs.append(f"{rec['title']}\n{rec['text']}")
    with (shared_data / "scifact" / "queries.jsonl").open() as fh:
        queries = [json.loads(line)["text"] for _, line in zip(range(40), fh, strict=False)]
    return docs, queries


def _top10(q: np.ndarray, d: np.ndarray) -> np.ndarray:
    return np.argsort(-(q @ d.T), axis=1)[:, :10]


def test_openvino_keeps_fp32_rankings(settings: Settings, scifact_text) -> None:
    from ragqa.retrieval.openvino_embedder import OpenVinoEmbedder

    docs, queries = scifact_text
    ov = get_embedder(settings.model_copy(update={"embed_backend": "openvino"}), "minilm")
    ref = get_embedder(settings.model_copy(update={"embed_backend": "torch"}), "minilm")
    assert isinstance(ov, OpenVinoEmbedder) and type(ref) is SentenceTransformerEmbedder
    d_ov, d_ref = ov.embed_documents(docs), ref.embed_documents(docs)
    q_ov = np.stack([ov.embed_query(q) for q in queries])
    q_ref = np.stack([ref.embed_query(q) for q in queries])
    assert np.allclose(np.linalg.norm(d_ov, axis=1), 1, atol=1e-3)
    assert float(np.mean(np.sum(d_ov * d_ref, axis=1))) > 0.999
    overlap = np.mean(
        [len(set(a) & set(b)) / 10 for a, b in zip(_top10(q_ov, d_ov), _top10(q_ref, d_ref), strict=True)]
    )
    assert overlap >= 0.99
    assert (ov.ir_dir / "model.xml").is_file()  # converted once, cached in the data dir


def test_auto_choice_follows_the_text() -> None:
    assert choose_embedder(["The quick brown fox jumps over the lazy dog."] * 3) == "minilm"
    assert choose_embedder(["北京是中国的首都。上海是最大的城市。"]) == MULTILINGUAL
    assert choose_embedder(["A long English text about many things. " * 50, "一句中文。"]) == "minilm"


def test_multilingual_embedder_relates_chinese_text(settings: Settings) -> None:
    e5 = get_embedder(settings, MULTILINGUAL)
    docs = e5.embed_documents(["北京是中国的首都。", "猫喜欢吃鱼。", "Paris is the capital of France."])
    scores = docs @ e5.embed_query("中国的首都是哪里？")
    assert int(np.argmax(scores)) == 0
    assert e5.count_tokens(["北京是中国的首都。"])[0] > 3
