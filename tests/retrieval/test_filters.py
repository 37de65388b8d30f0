"""Filters are applied inside retrieval: over 1,000 seeded random filters and queries, every mode returns
exactly the top k of the permitted subset — never a forbidden chunk, never fewer than k when k are permitted."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from ragqa.config import Settings
from ragqa.errors import InputError
from ragqa.ingest.pipeline import Ingestor
from ragqa.retrieval.embedders import Embedder
from ragqa.retrieval.filters import SearchFilter
from ragqa.retrieval.fusion import reciprocal_rank_fusion
from ragqa.retrieval.service import open_searcher

_WORDS = [
    "river",
    "mountain",
    "harbor",
    "engine",
    "protein",
    "galaxy",
    "violin",
    "glacier",
    "copper",
    "lantern",
    "orchard",
    "volcano",
    "falcon",
    "meadow",
    "quartz",
    "tunnel",
    "bakery",
    "comet",
    "canyon",
    "ferry",
    "marble",
    "prism",
    "saddle",
    "tundra",
    "walnut",
    "anchor",
    "beacon",
    "cactus",
    "dolphin",
    "ember",
    "fjord",
    "granite",
    "hammock",
    "iris",
    "jungle",
    "kettle",
    "lagoon",
    "mosaic",
    "nectar",
    "oasis",
    "pepper",
    "quiver",
    "rafter",
    "spruce",
]
_TEAMS, _LANGS, _YEARS = ("red", "blue", "green"), ("en", "de", "fr"), (2021, 2022, 2023, 2024)
_GROUPS = ("hr", "eng", "legal", "sales")
K = 5


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Settings:
    rng = random.Random(7)
    root = tmp_path_factory.mktemp("filters")
    lines = []
    for i in range(120):
        record = {
            "id": f"doc-{i:03d}",
            "title": f"Note {i}",
            "text": " ".join(rng.choice(_WORDS) for _ in range(40)) + ".",
            "team": rng.choice(_TEAMS),
            "year": rng.choice(_YEARS),
            "tags": rng.sample(_LANGS, rng.randint(1, 2)),
        }
        if rng.random() < 0.6:  # the rest are public
            record["acl"] = rng.sample(_GROUPS, rng.randint(1, 2))
        lines.append(json.dumps(record))
    folder = root / "notes" / "team"
    folder.mkdir(parents=True)
    (folder / "notes.jsonl").write_text("\n".join(lines))
    settings = Settings(data_dir=root / "data")
    with Ingestor(settings, embedder=embedder, progress=False) as ingestor:
        ingestor.ingest_paths([root / "notes"])
    return settings


def _random_filter(rng: random.Random, doc_ids: list[str], folder: str) -> SearchFilter:
    metadata: dict[str, object] = {}
    if rng.random() < 0.6:
        metadata["team"] = rng.sample(_TEAMS, rng.randint(1, 2))
    if rng.random() < 0.4:
        metadata["year"] = rng.choice(_YEARS)
    if rng.random() < 0.3:
        metadata["tags"] = rng.choice(_LANGS)
    ids = rng.sample(doc_ids, rng.randint(1, 40)) if rng.random() < 0.2 else None
    prefix = rng.choice([folder, "/elsewhere/"]) if rng.random() < 0.1 else None
    flt = SearchFilter.build(metadata, source_prefix=prefix, doc_ids=ids)  # type: ignore[arg-type]
    if rng.random() < 0.7:  # a caller's groups (an API key's), or none: an admin
        flt = flt.within(frozenset(rng.sample(_GROUPS, rng.randint(0, 2))))
    return flt


def test_every_mode_returns_exactly_the_permitted_top_k(collection: Settings, embedder: Embedder) -> None:
    searcher = open_searcher(collection)
    docstore = searcher.reader.docstore
    rows = {r.doc_id: r for r in docstore.documents(limit=1000)}
    vid_doc = docstore.doc_of_vids(range(10_000))
    dense = searcher.reader.state.dense  # the stored vectors: the reference scores what the index holds
    vectors = {vid: dense.index.reconstruct(pos) for vid, pos in dense._position.items()}
    folder = str(Path(next(iter(rows.values())).source).parent)
    depth = collection.fusion_depth
    rng = random.Random(11)
    cases = leaks = 0
    for _ in range(1000):
        query = " ".join(rng.sample(_WORDS, 3))
        flt = _random_filter(rng, sorted(rows), folder)
        permitted = {d for d, r in rows.items() if flt.matches(d, r.source, r.metadata)}
        mode = rng.choice(["bm25", "dense", "hybrid"])
        hits = searcher.search(query, mode=mode, k=K, search_filter=flt).hits
        cases += 1
        leaks += sum(h.doc_id not in permitted for h in hits)
        # BM25 scores do not depend on the filter: the full ranking, filtered, is the filtered ranking; dense by
        # brute force over the permitted chunks' vectors; hybrid is RRF over those two lists
        full = searcher.search(query, mode="bm25", k=10_000).hits
        lexical = [h.chunk_id for h in full if h.doc_id in permitted][:depth]
        q = embedder.embed_query(query)
        ranked = sorted(
            ((float(vectors[v] @ q), v) for v in vectors if vid_doc[v] in permitted), reverse=True
        )
        if mode == "bm25":
            expected = [round(h.score, 5) for h in full if h.doc_id in permitted][:K]
            assert [round(h.score, 5) for h in hits] == expected, (query, flt)
        elif mode == "dense":
            expected_scores = [s for s, _ in ranked[:K]]
            assert len(hits) == len(expected_scores), (query, flt)
            assert np.allclose([h.score for h in hits], expected_scores, atol=1e-3), (query, flt)
        else:
            chunk_of = {v: c.chunk_id for v, c in docstore.chunks_by_vid(v for _, v in ranked).items()}
            fused = reciprocal_rank_fusion(
                {"bm25": lexical, "dense": [chunk_of[v] for _, v in ranked[:depth]]}, k=collection.rrf_k
            )
            # equal scores (BM25 ties, vectors a float apart) may swap ranks, so allow near-ties to trade places
            assert {h.chunk_id for h in hits} <= {f.key for f in fused[: K + 3]}, (query, flt)
            assert len(hits) == min(K, len(ranked)), (query, flt)
    assert cases == 1000 and leaks == 0


def test_source_prefix_and_doc_ids(collection: Settings) -> None:
    searcher = open_searcher(collection)
    source = searcher.reader.docstore.documents(limit=1)[0].source
    prefix = str(Path(source).parent)
    assert (
        len(
            searcher.search(
                "river", mode="bm25", k=3, search_filter=SearchFilter.build(source_prefix=prefix)
            ).hits
        )
        == 3
    )
    nothing = SearchFilter.build(source_prefix="/nowhere/")
    for mode in ("bm25", "dense", "hybrid"):
        assert searcher.search("river", mode=mode, k=3, search_filter=nothing).hits == []  # type: ignore[arg-type]
    one = SearchFilter.build(doc_ids=["doc-007"])
    assert {h.doc_id for h in searcher.search("river mountain", k=10, search_filter=one).hits} <= {"doc-007"}


def test_cli_assignments_parse_json_values_and_repeat_as_any_of() -> None:
    flt = SearchFilter.from_assignments(["team=red", "team=blue", "year=2024", "draft=true", "name=a=b"])
    assert dict(flt.metadata) == {
        "team": ("red", "blue"),
        "year": (2024,),
        "draft": (True,),
        "name": ("a=b",),
    }
    assert flt.matches("d", "s", {"team": "blue", "year": 2024, "draft": True, "name": "a=b"})
    assert not flt.matches(
        "d", "s", {"team": "blue", "year": 2024, "draft": 1, "name": "a=b"}
    )  # True is not 1
    assert flt.matches("d", "s", {"team": ["green", "red"], "year": 2024, "draft": True, "name": "a=b"})
    with pytest.raises(InputError, match="key=value"):
        SearchFilter.from_assignments(["team"])
    assert not SearchFilter.build() and SearchFilter.build(doc_ids=[])


def test_faiss_filtered_graph_search_matches_brute_force_on_a_large_subset(embedder: Embedder) -> None:
    """Above the exact-scan limit the HNSW walk runs with an IDSelector and a wider beam."""
    from ragqa.retrieval.faiss_store import EXACT_MAX_VECTORS, FaissHNSWStore

    rng = np.random.default_rng(3)
    n = EXACT_MAX_VECTORS * 3
    vectors = rng.standard_normal((n, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store = FaissHNSWStore(32, m=16, ef_construction=80, ef_search=64, compact_ratio=0.5)
    store.add(np.arange(n) * 2, vectors)  # vids are not positions
    store.delete([0, 2, 4])
    allowed = np.arange(0, 2 * n, 4)  # half of them; 0 and 4 are deleted
    recall = []
    for q in rng.standard_normal((20, 32)).astype(np.float32):
        _, ids = store.search(q, 10, allowed)
        live = allowed[~np.isin(allowed, [0, 4])]
        truth = live[np.argsort(-(vectors[live // 2] @ q))[:10]]
        assert set(ids[0].tolist()) <= set(live.tolist())
        recall.append(len(set(ids[0].tolist()) & set(truth.tolist())) / 10)
    assert np.mean(recall) >= 0.95


def test_milvus_lite_applies_the_filter_in_its_own_searches(
    collection: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    milvus = collection.model_copy(update={"store": "milvus", "data_dir": tmp_path / "milvus"})
    notes = next(collection.data_dir.parent.glob("notes"))
    with Ingestor(milvus, embedder=embedder, progress=False) as ingestor:
        ingestor.ingest_paths([notes])
    searcher = open_searcher(milvus)
    rows = {r.doc_id: r for r in searcher.reader.docstore.documents(limit=1000)}
    folder = str(Path(next(iter(rows.values())).source).parent)
    rng = random.Random(5)
    for _ in range(30):
        flt = _random_filter(rng, sorted(rows), folder)
        permitted = {d for d, r in rows.items() if flt.matches(d, r.source, r.metadata)}
        for mode in ("dense", "native", "hybrid"):
            hits = searcher.search(" ".join(rng.sample(_WORDS, 3)), mode=mode, k=K, search_filter=flt).hits
            assert {h.doc_id for h in hits} <= permitted, (mode, flt)
            if mode == "dense":
                assert len(hits) == min(K, len(permitted)), (mode, flt)
