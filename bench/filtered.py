"""Filtered search: ragqa's in-retrieval filter against post-filtering (what a user would do by hand: ask for
more hits, drop the forbidden ones), at 50%, 10% and 1% of the chunks permitted.

    python bench/filtered.py                 # 100k chunks, 200 queries
    python bench/filtered.py --smoke         # seconds-long check that the script works (CI)

The chunks are SciFact-like word-bigram passages (bench/synthetic.py) indexed with ragqa's BM25 (bm25s, the
same tokenizer), and vectors in FAISS HNSW with ragqa's settings (M, efConstruction, efSearch) through
``FaissHNSWStore`` — the code the searcher runs. The vectors are clustered Gaussian points (1,000 centres,
normalised), not MiniLM embeddings: embedding 100k passages takes ~30 min here, and the filter's behaviour
depends on how many permitted neighbours the graph walk meets, not on what the vectors mean. So recall is of
the filtered HNSW walk against brute force over the permitted vectors; latency is per query (BM25 + dense +
RRF at depth 100, no query embedding), p50 over the queries. The permitted chunk ids come from ``shard``
metadata (chunk i has shard i % 100); resolving a filter to ids is cached per committed generation in ragqa and
is not timed here. Prints a table, writes bench/results/filtered.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, machine, percentiles, shared_data, table, write_json
from synthetic import BigramText

from ragqa.config import load_settings
from ragqa.retrieval.bm25_index import BM25Index
from ragqa.retrieval.faiss_store import FaissHNSWStore, set_faiss_threads
from ragqa.retrieval.fusion import reciprocal_rank_fusion
from ragqa.retrieval.lexical import LexicalTokenizer

K = 10
DEPTH = 100
SHARES = {"none": None, "50%": 50, "10%": 10, "1%": 1}  # permitted: chunks whose shard is below this


def clustered(n: int, dim: int, rng: np.random.Generator, centres: np.ndarray) -> np.ndarray:
    points = centres[rng.integers(0, len(centres), n)] + 0.35 * rng.standard_normal((n, dim)).astype(
        np.float32
    )
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--smoke", action="store_true", help="tiny run that only checks the script works")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    if args.smoke:
        args.chunks, args.queries = 6_000, 20
    settings = load_settings()
    set_faiss_threads(settings.threads)
    rng = np.random.default_rng(0)

    corpus = shared_data() / "scifact" / "corpus.jsonl"
    with corpus.open() as fh:
        texts = [json.loads(line)["text"] for _, line in zip(range(2000), fh, strict=False)]
    passages = list(BigramText(texts).passages(args.chunks))
    tokenizer = LexicalTokenizer(settings.cjk_segmentation)
    started = time.perf_counter()
    bm25 = BM25Index(k1=settings.bm25_k1, b=settings.bm25_b, method=settings.bm25_method)
    bm25.build(list(range(args.chunks)), [tokenizer.tokenize(p) for p in passages])
    dim = 384
    centres = rng.standard_normal((1000, dim)).astype(np.float32)
    vectors = clustered(args.chunks, dim, rng, centres)
    store = FaissHNSWStore(
        dim,
        m=settings.hnsw_m,
        ef_construction=settings.hnsw_ef_construction,
        ef_search=settings.hnsw_ef_search,
        compact_ratio=settings.compact_ratio,
    )
    store.add(np.arange(args.chunks), vectors)
    build_s = time.perf_counter() - started
    vocabulary = sorted({t for p in passages[:2000] for t in tokenizer.tokenize(p)})
    queries = [
        (clustered(1, dim, rng, centres)[0], [vocabulary[i] for i in rng.integers(0, len(vocabulary), 3)])
        for _ in range(args.queries)
    ]
    shard = np.arange(args.chunks) % 100

    rows: list[dict[str, Any]] = []
    for label, below in SHARES.items():
        allowed = None if below is None else np.flatnonzero(shard < below).astype(np.int64)
        ours_ms, post_ms, recall, post_recall, post_returned = [], [], [], [], []
        for vector, words in queries:
            t0 = time.perf_counter()
            lexical = bm25.search(words, DEPTH, allowed)
            _, ids = store.search(vector, DEPTH, allowed)
            dense = [int(i) for i in ids[0] if i >= 0]
            fused = reciprocal_rank_fusion(
                {"bm25": [v for v, _ in lexical], "dense": dense}, k=settings.rrf_k
            )[:K]
            ours_ms.append((time.perf_counter() - t0) * 1000)
            # post-filtering: the unfiltered lists ten times deeper, forbidden chunks dropped afterwards
            t0 = time.perf_counter()
            permitted = None if allowed is None else set(allowed.tolist())
            wide = bm25.search(words, DEPTH * 10)
            _, wide_ids = store.search(vector, DEPTH * 10)
            keep = (lambda v: True) if permitted is None else permitted.__contains__
            post_dense = [int(i) for i in wide_ids[0] if i >= 0 and keep(int(i))][:DEPTH]
            post_lexical = [v for v, _ in wide if keep(v)][:DEPTH]
            post = reciprocal_rank_fusion({"bm25": post_lexical, "dense": post_dense}, k=settings.rrf_k)[:K]
            post_ms.append((time.perf_counter() - t0) * 1000)
            pool = np.arange(args.chunks) if allowed is None else allowed
            truth = set(pool[np.argsort(-(vectors[pool] @ vector))[:K]].tolist())
            recall.append(len(truth & set(dense[:K])) / K)
            post_recall.append(len(truth & set(post_dense[:K])) / K)
            post_returned.append(len(post))
            assert len(fused) == K and (permitted is None or all(f.key in permitted for f in fused))
        rows.append(
            {
                "filter": label,
                "permitted_chunks": args.chunks if allowed is None else len(allowed),
                "hybrid": percentiles(ours_ms),
                "dense_recall@10": round(float(np.mean(recall)), 4),
                "post_filter": percentiles(post_ms),
                "post_filter_dense_recall@10": round(float(np.mean(post_recall)), 4),
                "post_filter_results_mean": round(float(np.mean(post_returned)), 2),
            }
        )
    base = rows[0]["hybrid"]["p50_ms"]
    for row in rows:
        row["hybrid_p50_vs_unfiltered"] = round(row["hybrid"]["p50_ms"] / base, 2)
    print(
        table(
            [
                "filter",
                "permitted",
                "hybrid p50 ms",
                "× unfiltered",
                "dense recall@10",
                "post-filter recall@10",
                "post-filter hits",
                "post-filter p50 ms",
            ],
            [
                [
                    r["filter"],
                    r["permitted_chunks"],
                    r["hybrid"]["p50_ms"],
                    r["hybrid_p50_vs_unfiltered"],
                    r["dense_recall@10"],
                    r["post_filter_dense_recall@10"],
                    r["post_filter_results_mean"],
                    r["post_filter"]["p50_ms"],
                ]
                for r in rows
            ],
        )
    )
    out = args.out or RESULTS / f"filtered{'-smoke' if args.smoke else ''}.json"
    write_json(
        out,
        {
            "machine": machine(),
            "chunks": args.chunks,
            "queries": args.queries,
            "build_seconds": round(build_s, 1),
            "settings": {"M": settings.hnsw_m, "efSearch": settings.hnsw_ef_search, "depth": DEPTH, "k": K},
            "results": rows,
        },
    )
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
