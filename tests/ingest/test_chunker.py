from __future__ import annotations

import itertools

from ragqa.ingest.chunker import Chunker, chunk_id_for
from ragqa.retrieval.embedders import Embedder
from ragqa.types import Document


def _chunker(embedder: Embedder, max_tokens: int = 40, overlap: int = 10) -> Chunker:
    return Chunker(embedder.count_tokens, embedder.token_offsets, max_tokens=max_tokens, overlap=overlap)


def _english(n: int) -> str:
    return " ".join(f"Sentence number {i} talks about topic {i % 7} in some detail." for i in range(n))


def test_chunks_fit_the_budget_and_cover_the_text(embedder: Embedder) -> None:
    doc = Document("d1", _english(30), "A title", "mem")
    chunks = _chunker(embedder).chunk(doc)
    assert len(chunks) > 3
    for chunk in chunks:
        assert embedder.count_tokens([chunk.indexed_text])[0] <= 40 + 2
        assert doc.text[chunk.start : chunk.end] == chunk.text
        assert chunk.text.endswith(".")  # sentence boundary
        assert chunk.context == "A title"
    assert chunks[0].start == 0 and chunks[-1].end == len(doc.text)
    for prev, nxt in itertools.pairwise(chunks):
        assert doc.text[prev.end : nxt.start].strip() == ""  # overlapping or adjacent: no text is lost
        assert nxt.start > prev.start


def test_overlap_repeats_trailing_sentences(embedder: Embedder) -> None:
    doc = Document("d1", _english(12), "", "mem")
    with_overlap = _chunker(embedder, overlap=15).chunk(doc)
    without = _chunker(embedder, overlap=0).chunk(doc)
    assert any(n.start < p.end for p, n in itertools.pairwise(with_overlap))
    assert all(n.start >= p.end for p, n in itertools.pairwise(without))


def test_chinese_chunks_end_on_chinese_punctuation(embedder: Embedder) -> None:
    text = "".join(f"第{i}句讲的是北京和上海的天气情况。" for i in range(40))
    chunks = _chunker(embedder, max_tokens=60, overlap=0).chunk(Document("zh", text, "", "mem"))
    assert len(chunks) > 2
    assert all(c.text.endswith("。") for c in chunks)


def test_overlong_sentence_is_cut_at_token_boundaries(embedder: Embedder) -> None:
    text = " ".join(f"w{i}" for i in range(300))  # one 600-token "sentence"
    chunks = _chunker(embedder, max_tokens=50, overlap=0).chunk(Document("d", text, "", "mem"))
    assert len(chunks) >= 12
    assert all(embedder.count_tokens([c.text])[0] <= 50 for c in chunks)
    assert " ".join(c.text for c in chunks) == text


def test_repeated_identical_text_is_stored_once(embedder: Embedder) -> None:
    text = " ".join(["word"] * 300)
    chunks = _chunker(embedder, max_tokens=50, overlap=0).chunk(Document("d", text, "", "mem"))
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_ids_are_content_derived_and_stable(embedder: Embedder) -> None:
    doc = Document("d1", _english(10), "T", "mem")
    first = _chunker(embedder).chunk(doc)
    second = _chunker(embedder).chunk(doc)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in second]
    assert first[0].chunk_id == chunk_id_for("d1", "T", first[0].text)
    edited = Document("d1", doc.text + " A brand new closing sentence.", "T", "mem")
    changed = _chunker(embedder).chunk(edited)
    assert first[0].chunk_id == changed[0].chunk_id
    assert first[-1].chunk_id != changed[-1].chunk_id


def test_headings_become_chunk_context(embedder: Embedder) -> None:
    text = "# Guide\n\nIntro text here.\n\n## Install\n\nRun the installer now."
    doc = Document("d", text, "Guide", "mem", headings=((0, "Guide"), (text.index("## Install"), "Install")))
    chunks = _chunker(embedder, max_tokens=12, overlap=0).chunk(doc)
    assert len(chunks) == 2
    assert chunks[0].context == "Guide"
    assert chunks[-1].context == "Guide > Install"
