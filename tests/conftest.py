"""Shared fixtures: real embedder (loaded once), isolated data dirs, the shared public data sets by path."""

from __future__ import annotations

import os
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("RAGQA_THREADS", "2")

import pytest

from ragqa.config import Settings, load_settings
from ragqa.retrieval.embedders import Embedder, get_embedder

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("RAGQA_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("RAGQA_") and key not in {"RAGQA_THREADS", "RAGQA_SHARED_DATA"}:
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return get_embedder(load_settings())


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"public data sets not found at {SHARED_DATA} (set RAGQA_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture
def docs_dir() -> Path:
    return REPO / "docs"
