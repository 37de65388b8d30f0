from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ragqa.config import Settings
from ragqa.ingest.pipeline import Ingestor
from ragqa.retrieval.collection import CollectionReader
from ragqa.retrieval.embedders import Embedder
from ragqa.retrieval.searcher import Searcher


def _consistent_stats(settings: Settings) -> dict:
    reader = CollectionReader(settings)
    stats = reader.stats()
    reader.close()
    assert stats["chunks"] == stats["dense_vectors"] == stats["bm25_chunks"]
    return stats


def _search_sources(settings: Settings, embedder: Embedder, query: str) -> list[str]:
    searcher = Searcher(settings, CollectionReader(settings), embedder)
    return [Path(h.source).name for h in searcher.search(query, k=5).hits]


@pytest.fixture
def corpus(tmp_path: Path, docs_dir: Path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(docs_dir, target)
    return target


def test_ingest_twice_changes_nothing(settings: Settings, embedder: Embedder, corpus: Path) -> None:
    with Ingestor(settings, embedder=embedder, progress=False) as ingestor:
        first = ingestor.ingest_paths([corpus])
    assert first.files_ingested == first.files_seen >= 4 and not first.failed
    assert first.chunks_embedded > 0
    before = _consistent_stats(settings)
    with Ingestor(settings, embedder=embedder, progress=False) as ingestor:
        second = ingestor.ingest_paths([corpus])
    assert second.files_unchanged == second.files_seen
    assert (second.chunks_embedded, second.documents_added, second.generation) == (0, 0, first.generation)
    assert _consistent_stats(settings) == before


def test_touched_but_identical_file_is_not_reindexed(
    settings: Settings, embedder: Embedder, corpus: Path
) -> None:
    with Ingestor(settings, embedder=embedder, progress=False) as ingestor:
        first = ingestor.ingest_paths([corpus])
    os.utime(corpus / "overview.md", ns=(time.time_ns(), time.time_ns()))
    with Ingestor(settings, embedder=embedder, progress=False) as ingestor:
        second = ingestor.ingest_paths([corpus])
    assert second.chunks_embedded == 0 and second.generation == first.generation


def test_changed_file_replaces_its_chunks(settings: Settings, embedder: Embedder, corpus: Path) -> None:
    with Ingestor(settings, embedder=embedder, progress=False) as ingestor:
        ingestor.ingest_paths([corpus])
    before = _consistent_stats(settings)
    page = corpus / "troubleshooting.md"
    text = page.read_text().replace("needs OCR first", "must be scanned by the zebra department")
    page.write_text(text)
    with Ingestor(settings, embedder=embedder, progress=False) as ingestor:
        report = ingestor.ingest_paths([corpus])
    assert report.documents_updated == 1 and report.documents_added == 0
    assert 0 < report.chunks_embedded < before["chunks"]  # only the edited chunk is embedded again
    after = _consistent_stats(settings)
    assert after["documents"] == before["documents"] and after["chunks"] == before["chunks"]
    reader = CollectionReader(settings)
    hits = Searcher(settings, reader, embedder).search("zebra department", mode="bm25").hits
    assert hits and "zebra department" in hits[0].text
    assert not Searcher(settings, reader, embedder).search("OCR", mode="bm25").hits


def test_delete_removes_everywhere_and_reingest_restores(
    settings: Settings, embedder: Embedder, corpus: Path
) -> None:
    with Ingestor(settings, embedder=embedder, progress=False) as ingestor:
        ingestor.ingest_paths([corpus])
    before = _consistent_stats(settings)
    assert "troubleshooting.md" in _search_sources(settings, embedder, "OCR scanned PDF text layer")
    with Ingestor(settings, embedder=embedder, progress=False) as ingestor:
        deleted, unknown = ingestor.delete([str(corpus / "troubleshooting.md"), "no-such-doc"])
    assert len(deleted) == 1 and unknown == ["no-such-doc"]
    after = _consistent_stats(settings)
    assert after["documents"] == before["documents"] - 1 and after["chunks"] < before["chunks"]
    assert "troubleshooting.md" not in _search_sources(settings, embedder, "OCR scanned PDF text layer")
    with Ingestor(settings, embedder=embedder, progress=False) as ingestor:
        again = ingestor.ingest_paths([corpus])
    assert again.documents_added == 1
    assert _consistent_stats(settings)["chunks"] == before["chunks"]


def test_bad_files_are_reported_and_the_rest_ingests(
    settings: Settings, embedder: Embedder, corpus: Path
) -> None:
    (corpus / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\nbinary")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.7 truncated")
    (corpus / "big.txt").write_text("large file. " * 200_000)
    small = settings.model_copy(update={"max_file_mb": 1.0})
    with Ingestor(small, embedder=embedder, progress=False) as ingestor:
        report = ingestor.ingest_paths([corpus])
    reasons = {Path(p).name: r for p, r in report.failed}
    assert set(reasons) == {"image.txt", "broken.pdf", "big.txt"}
    assert "PNG" in reasons["image.txt"] and "corrupt PDF" in reasons["broken.pdf"]
    assert "over the 1 MB limit" in reasons["big.txt"]
    assert report.files_ingested == report.files_seen - 3


def test_deleted_jsonl_record_is_removed_on_reingest(
    settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text('{"_id": "a", "text": "Alpha particles."}\n{"_id": "b", "text": "Beta decay."}\n')
    with Ingestor(settings, embedder=embedder, progress=False) as ingestor:
        ingestor.ingest_paths([path])
    path.write_text('{"_id": "a", "text": "Alpha particles."}\n{"_id": "c", "text": "Gamma rays."}\n')
    with Ingestor(settings, embedder=embedder, progress=False) as ingestor:
        report = ingestor.ingest_paths([path])
    assert (report.documents_added, report.documents_deleted, report.documents_unchanged) == (1, 1, 1)
    reader = CollectionReader(settings)
    assert [d.doc_id for d in reader.docstore.documents()] == ["a", "c"]


def _write_corpus(folder: Path, n: int) -> None:
    folder.mkdir()
    for i in range(n):
        sentences = " ".join(f"Document {i} sentence {j} mentions topic {i * 7 + j}." for j in range(30))
        (folder / f"doc{i:03d}.txt").write_text(sentences)


def test_kill_during_ingest_keeps_last_commit_and_resumes_without_duplicates(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    _write_corpus(folder, 80)
    env = {
        **os.environ,
        "RAGQA_DATA_DIR": str(tmp_path / "data"),
        "RAGQA_COMMIT_EVERY": "8",
        "RAGQA_CHUNK_TOKENS": "64",
        "RAGQA_CHUNK_OVERLAP": "0",
    }
    manifest = tmp_path / "data" / "collections" / "default" / "manifest.sqlite"
    cmd = [sys.executable, "-m", "ragqa.cli", "ingest", str(folder), "--no-progress"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def generation() -> int:
        try:
            with sqlite3.connect(f"file:{manifest}?mode=ro", uri=True) as db:
                row = db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
            return int(row[0]) if row else 0
        except sqlite3.Error:
            return 0

    deadline = time.time() + 240
    while generation() < 3 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "ingest finished before it could be killed; make the corpus larger"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = generation()
    assert killed_at >= 3

    stats = subprocess.run(
        [sys.executable, "-m", "ragqa.cli", "stats", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert '"generation"' in stats.stdout  # the committed state loads

    done = subprocess.run([*cmd, "--json"], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(manifest) as db:
        docs = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        chunks, distinct = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT doc_id || text) FROM chunks"
        ).fetchone()
    assert docs == 80 and chunks == distinct
    final = subprocess.run(
        [sys.executable, "-m", "ragqa.cli", "stats", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    import json

    info = json.loads(final.stdout)
    assert info["chunks"] == info["dense_vectors"] == info["bm25_chunks"] == chunks
    assert info["generation"] > killed_at
    index_dirs = sorted(p.name for p in (manifest.parent / "index").iterdir())
    assert all(".tmp" not in name for name in index_dirs)


def test_commits_come_every_commit_every_chunks_until_they_grow_costly() -> None:
    from ragqa.ingest.pipeline import commit_due

    assert not commit_due(1999, 2000, seconds_since_commit=100.0, last_commit_seconds=0.0)
    assert commit_due(2000, 2000, seconds_since_commit=1.0, last_commit_seconds=0.05)
    # a commit that took 2 s waits for 18 s of work: commits stay within 10% of ingestion time
    assert not commit_due(5000, 2000, seconds_since_commit=17.0, last_commit_seconds=2.0)
    assert commit_due(5000, 2000, seconds_since_commit=18.0, last_commit_seconds=2.0)
