"""Damaged and half-written indexes: refused with a clear error (never wrong results with exit 0), never carried
forward by the next ingest, and repaired from the manifest by ``ragqa repair``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ragqa.config import load_settings
from ragqa.retrieval.collection import CollectionWriter
from tests.processes import env_for, ragqa, serving


def _overwrite(path: Path, size: int = 64 * 1024, at: int = 1024) -> None:
    with path.open("r+b") as fh:
        fh.seek(min(at, max(0, path.stat().st_size - size)))
        fh.write(os.urandom(min(size, path.stat().st_size)))


def _generation_files(data: Path, pattern: str) -> Path:
    found = sorted((data / "collections" / "default" / "index").glob(f"gen-*/{pattern}"))
    assert found, pattern
    return max(found, key=lambda p: p.stat().st_size)


@pytest.mark.parametrize("damaged", ["dense/hnsw.faiss", "bm25/bm25s/*"])
def test_damaged_index_file_is_refused_then_repaired(tmp_path: Path, docs_dir: Path, damaged: str) -> None:
    data = tmp_path / "data"
    env = env_for(data)
    assert ragqa("ingest", str(docs_dir), env=env).returncode == 0
    before = json.loads(ragqa("search", "Reciprocal Rank Fusion", "--json", env=env).stdout)["hits"]
    _overwrite(_generation_files(data, damaged))

    search = ragqa("search", "Reciprocal Rank Fusion", env=env)
    assert search.returncode == 3 and "checksum" in search.stderr and "ragqa repair" in search.stderr
    assert "Traceback" not in search.stderr
    extra = tmp_path / "extra.md"
    extra.write_text("# Extra\n\nA new file must not carry the damage into the next generation.\n")
    carried = ragqa("ingest", str(extra), env=env)
    assert carried.returncode == 3 and "checksum" in carried.stderr  # the writer refuses too

    repaired = ragqa("repair", env=env)
    assert repaired.returncode == 0 and "re-indexed" in repaired.stdout, repaired.stderr
    after = json.loads(ragqa("search", "Reciprocal Rank Fusion", "--json", env=env).stdout)["hits"]
    assert [h["chunk_id"] for h in after] == [h["chunk_id"] for h in before]
    assert ragqa("ingest", str(extra), env=env).returncode == 0


def test_damaged_manifest_is_index_corrupt_on_the_cli_and_the_api(tmp_path: Path, docs_dir: Path) -> None:
    data = tmp_path / "data"
    env = env_for(data)
    assert ragqa("ingest", str(docs_dir), env=env).returncode == 0
    manifest = data / "collections" / "default" / "manifest.sqlite"
    _overwrite(manifest, size=manifest.stat().st_size, at=0)
    search = ragqa("search", "fusion", env=env)
    assert search.returncode == 3 and "damaged" in search.stderr and "Traceback" not in search.stderr
    with serving(env) as server:
        ready = server.client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["index"].startswith("index_corrupt")
        hits = server.client.post("/v1/search", json={"query": "fusion"})
        assert hits.status_code == 503 and hits.json()["error"]["code"] == "index_corrupt"


def test_readyz_notices_damage_after_start(tmp_path: Path, docs_dir: Path) -> None:
    data = tmp_path / "data"
    env = env_for(data)
    assert ragqa("ingest", str(docs_dir), env=env).returncode == 0
    with serving(env) as server:
        assert server.client.get("/readyz").status_code == 200
        _overwrite(_generation_files(data, "dense/hnsw.faiss"))
        ready = server.client.get("/readyz")
        assert ready.status_code == 503 and "checksum" in ready.json()["checks"]["index"]


def test_nothing_committed_yet_is_index_missing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    CollectionWriter(load_settings(data_dir=data)).close()  # a run killed before its first commit
    search = ragqa("search", "anything", env=env_for(data))
    assert search.returncode == 3 and "nothing committed" in search.stderr
