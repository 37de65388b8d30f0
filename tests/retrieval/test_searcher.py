from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ragqa.config import Settings
from ragqa.errors import IndexCorruptError, IndexMismatchError, IndexMissingError, InputError
from ragqa.ingest.pipeline import Ingestor
from ragqa.retrieval.collection import CollectionReader, CollectionWriter, generation_dir
from ragqa.retrieval.embedders import Embedder
from ragqa.retrieval.searcher import Searcher


@pytest.fixture
def indexed(settings: Settings, embedder: Embedder, docs_dir: Path) -> Settings:
    with Ingestor(settings, embedder=embedder, progress=False) as ingestor:
        ingestor.ingest_paths([docs_dir])
    return settings


def _searcher(settings: Settings, embedder: Embedder) -> Searcher:
    return Searcher(settings, CollectionReader(settings), embedder)


def test_hybrid_hits_carry_both_ranks_and_rrf_scores(indexed: Settings, embedder: Embedder) -> None:
    result = _searcher(indexed, embedder).search("How are BM25 and dense rankings fused?", k=5)
    assert result.mode == "hybrid" and len(result.hits) == 5
    top = result.hits[0]
    assert Path(top.source).name == "overview.md" and "Reciprocal Rank Fusion" in top.text
    for hit in result.hits:
        expected = sum(1 / (60 + r) for r in hit.ranks.values() if r)
        assert hit.score == pytest.approx(expected)
        assert set(hit.ranks) == {"bm25", "dense"}
        assert hit.text == Path(hit.source).read_text(encoding="utf-8")[hit.span[0] : hit.span[1]]
    assert [h.score for h in result.hits] == sorted((h.score for h in result.hits), reverse=True)
    assert {"bm25", "embed", "dense", "fuse", "total"} <= set(result.timings_ms)


def test_single_modes_and_chinese_query(indexed: Settings, embedder: Embedder) -> None:
    searcher = _searcher(indexed, embedder)
    bm25 = searcher.search("结巴分词", mode="bm25", k=3).hits
    assert bm25 and Path(bm25[0].source).name == "概览.md"
    assert list(bm25[0].ranks) == ["bm25"]
    dense = searcher.search("what happens if the process is killed", mode="dense", k=3).hits
    assert dense and all(h.ranks["dense"] for h in dense)


def test_one_per_document_collapses_chunks(indexed: Settings, embedder: Embedder) -> None:
    hits = _searcher(indexed, embedder).search("ragqa", k=20, one_per_document=True).hits
    assert len({h.doc_id for h in hits}) == len(hits)


def test_bad_queries_are_refused(indexed: Settings, embedder: Embedder) -> None:
    searcher = _searcher(indexed, embedder)
    with pytest.raises(InputError, match="empty"):
        searcher.search("   ")
    with pytest.raises(InputError, match="limit"):
        searcher.search("x" * 5000)
    with pytest.raises(InputError, match="mode"):
        searcher.search("x", mode="fuzzy")  # type: ignore[arg-type]


def test_missing_collection_is_a_clear_error(settings: Settings) -> None:
    with pytest.raises(IndexMissingError, match="ragqa ingest"):
        CollectionReader(settings)


def test_missing_generation_files_are_reported(indexed: Settings) -> None:
    reader = CollectionReader(indexed)
    shutil.rmtree(generation_dir(indexed.collection_dir, reader.state.generation))
    with pytest.raises(IndexCorruptError, match="missing"):
        CollectionReader(indexed)


def test_orphan_generation_from_a_crash_is_ignored_and_cleaned(indexed: Settings, embedder: Embedder) -> None:
    committed = CollectionReader(indexed).state.generation
    current = generation_dir(indexed.collection_dir, committed)
    orphan = generation_dir(indexed.collection_dir, committed + 1)
    shutil.copytree(current, orphan)  # published files whose SQLite commit never happened
    half = current.with_name(current.name + ".tmp-999")
    half.mkdir()
    assert CollectionReader(indexed).state.generation == committed
    CollectionWriter(indexed).close()
    assert not orphan.exists() and not half.exists() and current.exists()


def test_settings_that_change_the_index_are_refused(indexed: Settings, embedder: Embedder) -> None:
    other = indexed.model_copy(update={"chunk_tokens": 100})
    with pytest.raises(IndexMismatchError, match="chunk_tokens"):
        Searcher(other, CollectionReader(other), embedder)


def test_reader_sees_new_generation_after_refresh(
    indexed: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    reader = CollectionReader(indexed)
    searcher = Searcher(indexed, reader, embedder)
    assert not searcher.search("quokka marsupial", mode="bm25").hits
    extra = tmp_path / "extra.txt"
    extra.write_text("The quokka is a small marsupial from Western Australia.")
    with Ingestor(indexed, embedder=embedder, progress=False) as ingestor:
        ingestor.ingest_paths([extra])
    assert not searcher.search("quokka marsupial", mode="bm25").hits  # still the old, consistent snapshot
    assert reader.refresh()
    assert searcher.search("quokka marsupial", mode="bm25").hits[0].source == str(extra.resolve())
