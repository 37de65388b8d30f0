"""A collection keeps the index settings it was built with when a later release (or a user) leaves them unset."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragqa.config import load_settings
from ragqa.errors import IndexMismatchError
from ragqa.retrieval.collection import CollectionReader
from ragqa.retrieval.embedders import Embedder
from ragqa.retrieval.searcher import Searcher
from tests.processes import env_for, ragqa


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


def test_unset_index_settings_follow_the_collection_across_processes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = _write(tmp_path / "a", "北大.md", "北京大学是一所大学。它的图书馆很大。")
    # built as an older default would have: precise segmentation, other BM25 parameters
    old = env_for(data, cjk_segmentation="precise", bm25_k1="1.2", bm25_b="0.75")
    assert ragqa("ingest", str(first), env=old).returncode == 0

    plain = env_for(data)  # today's defaults, nothing set: the collection's values are used, nothing refused
    second = _write(tmp_path / "b", "清华.md", "清华大学也在北京。")
    added = ragqa("ingest", str(second), env=plain)
    assert added.returncode == 0, added.stderr
    found = ragqa("search", "北京大学", "--mode", "bm25", "--json", env=plain)
    assert found.returncode == 0, found.stderr
    assert Path(json.loads(found.stdout)["hits"][0]["source"]).name == "北大.md"
    stats = ragqa("stats", "--json", env=plain)
    fingerprint = json.loads(stats.stdout)["fingerprint"]
    assert (fingerprint["cjk_segmentation"], fingerprint["bm25_k1"]) == ("precise", 1.2)  # not rebuilt

    # a value set explicitly that contradicts the collection is still refused, with the reason
    refused = ragqa("search", "北京", env=env_for(data, cjk_segmentation="search+bigrams"))
    assert (
        refused.returncode == 3 and "cjk_segmentation" in refused.stderr and "Traceback" not in refused.stderr
    )


def test_the_searcher_tokenizes_queries_as_the_index_was_built(tmp_path: Path, embedder: Embedder) -> None:
    from ragqa.ingest.pipeline import Ingestor

    built = load_settings(data_dir=tmp_path / "data", cjk_segmentation="precise")
    with Ingestor(built, embedder=embedder, progress=False) as ingestor:
        ingestor.ingest_paths([_write(tmp_path / "docs", "a.md", "北京大学")])
    plain = load_settings(data_dir=tmp_path / "data")
    assert "cjk_segmentation" not in plain.model_fields_set
    searcher = Searcher(plain, CollectionReader(plain), embedder)
    assert searcher.tokenizer.cjk_mode == "precise"
    explicit = load_settings(data_dir=tmp_path / "data", cjk_segmentation="search")
    with pytest.raises(IndexMismatchError, match="cjk_segmentation"):
        Searcher(explicit, CollectionReader(explicit), embedder)
