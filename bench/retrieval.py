"""Retrieval speed and quality of ragqa against the peers a user would pick, same chunks, same embeddings, same k.

    python bench/retrieval.py                       # 10k and 100k chunks (SciFact + synthetic distractors)
    python bench/retrieval.py --sizes 10000 --peer-queries 50
    python bench/retrieval.py --smoke               # seconds-long check that the script works (CI)
    nice python bench/retrieval.py --sizes 1000000 --warm-cache   # embed a 1M corpus ahead (resumable), no timing

Corpus: the SciFact abstracts (``--scifact``, default ../shared/data/scifact) chunked by ragqa, then, up to the
size asked, deterministic word-bigram passages trained on SciFact (bench/synthetic.py). Below SciFact's own
~13k chunks a prefix of its documents is used, and quality counts only the queries whose relevant documents are
all in. Peers, built on ragqa's chunks and ragqa's embeddings (MiniLM, computed once and cached):

- ``rank-bm25``: ``BM25Okapi`` over lower-cased word tokens — keyword search;
- LangChain ``EnsembleRetriever``: its ``BM25Retriever`` (rank_bm25) plus a LangChain ``FAISS`` vector store,
  RRF with c=60 — hybrid search.

Latency is one query at a time (query embedding included for dense and hybrid); throughput runs the same
queries on 2 threads. nDCG@10 is on SciFact train qrels: ragqa on every query, and every system on the same
``--peer-queries`` subset (the peers take ~1 s a query at 100k). Prints a table, writes
bench/results/retrieval.json.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, WrappedEmbedder, machine, percentiles, rss_mb, shared_data, table, write_json
from synthetic import BigramText

from ragqa.config import Settings, load_settings
from ragqa.eval.datasets import load_beir
from ragqa.eval.metrics import ranking_metrics
from ragqa.ingest.pipeline import Ingestor
from ragqa.retrieval.embedders import ENGLISH, Embedder, get_embedder
from ragqa.retrieval.searcher import Searcher
from ragqa.retrieval.service import open_searcher
from ragqa.types import Document

K = 10
_TOKEN = re.compile(r"\w+")
Search = Callable[[str], list[str]]  # query -> chunk doc ids, best first


class CachedEmbedder(WrappedEmbedder):
    """The real embedder, remembering vectors by text (on disk), so that each chunk is embedded once for every
    system and every size; the time spent embedding is reported on its own."""

    def __init__(self, inner: Embedder, path: Path, save_every: int = 50_000) -> None:
        super().__init__(inner)
        self.path = path
        self.save_every = save_every  # new vectors between saves: a long run that stops keeps its work
        self._unsaved = 0
        self.vectors: dict[bytes, np.ndarray] = {}
        if path.exists():
            data = np.load(path)
            self.vectors = {k.tobytes(): v for k, v in zip(data["keys"], data["vectors"], strict=True)}
        self.seconds = 0.0
        self.embedded = 0

    @staticmethod
    def key(text: str) -> bytes:
        return hashlib.blake2b(text.encode(), digest_size=16).digest()

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        keys = [self.key(t) for t in texts]
        missing = list({k: t for k, t in zip(keys, texts, strict=True) if k not in self.vectors}.items())
        if missing:
            t0 = time.perf_counter()
            vectors = self.inner.embed_documents([t for _, t in missing])
            self.seconds += time.perf_counter() - t0
            self.embedded += len(missing)
            self._unsaved += len(missing)
            self.vectors.update({k: v for (k, _), v in zip(missing, vectors, strict=True)})
            if self._unsaved >= self.save_every:
                self.save()
        return np.stack([self.vectors[k] for k in keys]).astype(np.float32)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.frombuffer(b"".join(self.vectors), dtype=np.uint8).reshape(-1, 16)  # raw bytes, NULs kept
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=keys, vectors=np.stack(list(self.vectors.values())))
        tmp.replace(self.path)
        self._unsaved = 0


def corpus(scifact: Path, size: int, chunks_per_doc: float) -> tuple[list[Document], int]:
    """SciFact documents (a prefix below its own size), then synthetic one-chunk passages up to ``size``."""
    rows = [json.loads(line) for line in (scifact / "corpus.jsonl").open(encoding="utf-8") if line.strip()]
    real = [Document(str(r["_id"]), r.get("text", ""), r.get("title", ""), "scifact") for r in rows]
    keep = min(len(real), int(size / chunks_per_doc))
    docs = real[:keep]
    synthetic = max(0, size - int(keep * chunks_per_doc))
    model = BigramText([d.text for d in real])
    docs += [
        Document(f"synthetic-{i}", text, "", "synthetic") for i, text in enumerate(model.passages(synthetic))
    ]
    return docs, keep


def build_ragqa(settings: Settings, docs: list[Document], embedder: CachedEmbedder) -> dict[str, Any]:
    gc.collect()
    rss0, embed0 = rss_mb(), embedder.seconds
    t0 = time.perf_counter()
    with Ingestor(settings, embedder=embedder, progress=sys.stderr.isatty()) as ingestor:
        report = ingestor.ingest_documents(docs)
    wall = time.perf_counter() - t0
    embedding = embedder.seconds - embed0
    return {
        "chunks": report.chunks_embedded,
        "build_s": round(wall - embedding, 2),
        "embedding_s": round(embedding, 2),
        "rss_growth_mb": round(rss_mb() - rss0, 1),
    }


def warm_cache(scifact: Path, size: int, embedder: CachedEmbedder, block: int = 2_000) -> None:
    """Embed the chunks of the ``size`` corpus into the cache, building no index: the slow part of a 1M run,
    done ahead (it can run niced beside other work, stop, and resume; the smaller corpora are prefixes of it).
    Chunking is the Ingestor's own, so the cached texts are exactly those the measured run embeds."""
    docs, _ = corpus(scifact, size, chunks_per_doc=2.5)
    settings = load_settings(data_dir=Path(tempfile.mkdtemp(prefix="ragqa-bench-warm-")), embedder=ENGLISH)
    try:
        with Ingestor(settings, embedder=embedder, progress=False) as ingestor:
            assert ingestor.chunker is not None
            start = time.perf_counter()
            for i in range(0, len(docs), block):
                chunks = ingestor.chunker.chunk_many(docs[i : i + block])
                embedder.embed_documents([c.indexed_text for doc in chunks for c in doc])
                done = min(len(docs), i + block)
                print(
                    f"warm: {done:,}/{len(docs):,} documents, {len(embedder.vectors):,} vectors cached, "
                    f"{embedder.embedded:,} embedded in {embedder.seconds:.0f} s "
                    f"({time.perf_counter() - start:.0f} s wall)",
                    file=sys.stderr,
                    flush=True,
                )
        embedder.save()
    finally:
        shutil.rmtree(settings.data_dir, ignore_errors=True)


def run_queries(search: Search, queries: dict[str, str], threads: int = 2) -> dict[str, Any]:
    search(next(iter(queries.values())))  # warm up
    latencies: list[float] = []
    run: dict[str, dict[str, float]] = {}
    for qid, text in queries.items():
        t0 = time.perf_counter()
        docs = search(text)
        latencies.append((time.perf_counter() - t0) * 1000)
        ranked = list(dict.fromkeys(docs))  # chunks -> documents, best chunk first
        run[qid] = {d: float(len(ranked) - i) for i, d in enumerate(ranked)}
    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(search, queries.values()))
    qps = len(queries) / (time.perf_counter() - t0)
    return {"latency": percentiles(latencies), "qps": round(qps, 1), "run": run}


def ndcg(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]]) -> float:
    return round(ranking_metrics({q: qrels[q] for q in run}, run)["ndcg@10"], 4)


def peers(
    texts: list[str], doc_ids: list[str], embedder: CachedEmbedder
) -> dict[str, tuple[Search, dict[str, Any]]]:
    from langchain_classic.retrievers import EnsembleRetriever
    from langchain_community.retrievers import BM25Retriever
    from langchain_community.vectorstores import FAISS
    from langchain_core.embeddings import Embeddings
    from rank_bm25 import BM25Okapi

    out: dict[str, tuple[Search, dict[str, Any]]] = {}
    gc.collect()
    rss0, t0 = rss_mb(), time.perf_counter()
    bm25 = BM25Okapi([_TOKEN.findall(t.lower()) for t in texts])
    built = {"build_s": round(time.perf_counter() - t0, 2), "rss_growth_mb": round(rss_mb() - rss0, 1)}

    def bm25_search(query: str) -> list[str]:
        scores = bm25.get_scores(_TOKEN.findall(query.lower()))
        top = np.argpartition(-scores, K)[:K] if len(scores) > K else np.arange(len(scores))
        return [doc_ids[i] for i in top[np.argsort(-scores[top])]]

    out["rank-bm25 BM25Okapi"] = (bm25_search, built)

    class Same(Embeddings):  # LangChain's view of the very same embedder
        def embed_documents(self, docs: list[str]) -> list[list[float]]:
            return embedder.embed_documents(docs).tolist()

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed_query(text).tolist()

    gc.collect()
    rss0, t0 = rss_mb(), time.perf_counter()
    metadatas = [{"doc_id": d} for d in doc_ids]
    lc_bm25 = BM25Retriever.from_texts(texts, metadatas=metadatas, k=K)
    vectors = embedder.embed_documents(texts)
    store = FAISS.from_embeddings(
        list(zip(texts, vectors.tolist(), strict=True)), Same(), metadatas=metadatas
    )
    ensemble = EnsembleRetriever(
        retrievers=[lc_bm25, store.as_retriever(search_kwargs={"k": K})], weights=[0.5, 0.5], c=60
    )
    built = {"build_s": round(time.perf_counter() - t0, 2), "rss_growth_mb": round(rss_mb() - rss0, 1)}
    out["LangChain EnsembleRetriever"] = (
        lambda q: [d.metadata["doc_id"] for d in ensemble.invoke(q)][:K],
        built,
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scifact", type=Path, default=shared_data() / "scifact")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=0, help="ragqa queries (0 = all 809 train queries)")
    parser.add_argument("--peer-queries", type=int, default=100, help="queries every system runs")
    parser.add_argument(
        "--peers-up-to",
        type=int,
        default=100_000,
        help="largest size the peers run at: at 100k chunks rank-bm25 and LangChain grew RSS by 0.76 and 1.37 GB, "
        "so at 1M they would not fit beside ragqa in 24 GB",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(".ragqa") / "bench-cache",
        help="embedding cache, saved every 50,000 new vectors: a run that stops resumes its embedding",
    )
    parser.add_argument(
        "--warm-cache",
        action="store_true",
        help="only embed the largest size's chunks into --cache (no index, no timing), then exit",
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--smoke", action="store_true", help="tiny run that only checks the script works")
    args = parser.parse_args()
    if args.smoke:
        args.sizes, args.queries, args.peer_queries = [300], 15, 5
    out = args.out or RESULTS / f"retrieval{'-smoke' if args.smoke else ''}.json"

    dataset = load_beir(args.scifact, "train")
    work = Path(tempfile.mkdtemp(prefix="ragqa-bench-retrieval-"))
    base = load_settings(data_dir=work / "probe")
    embedder = CachedEmbedder(get_embedder(base, ENGLISH), args.cache / f"{ENGLISH}.npz")
    embedder.inner.embed_documents(["load the model before any memory is measured"])
    if args.warm_cache:
        warm_cache(args.scifact, max(args.sizes), embedder)
        return
    results: list[dict[str, Any]] = []
    rows: list[list[Any]] = []
    try:
        for size in args.sizes:
            docs, n_real = corpus(args.scifact, size, chunks_per_doc=2.5)
            present = {d.doc_id for d in docs}
            qids = [q for q in dataset.queries if all(d in present for d in dataset.qrels[q])]
            all_q = {q: dataset.queries[q] for q in qids[: args.queries or None]}
            peer_q = {q: dataset.queries[q] for q in qids[: args.peer_queries]}
            settings = load_settings(
                data_dir=work / f"ragqa-{size}", collection="bench", embedder=ENGLISH, commit_every=10**9
            )
            built = build_ragqa(settings, docs, embedder)
            embedder.save()
            searcher = open_searcher(settings)
            texts, doc_ids = map(list, zip(*searcher.reader.docstore.iter_indexed(), strict=True))
            common = {"size": size, "chunks": len(texts), "scifact_docs": n_real, "queries": len(all_q)}
            ragqa_p50: dict[str, float] = {}
            for mode in ("bm25", "dense", "hybrid"):

                def search(q: str, mode: str = mode, searcher: Searcher = searcher) -> list[str]:
                    return [h.doc_id for h in searcher.search(q, mode=mode, k=K).hits]  # type: ignore[arg-type]

                full = run_queries(search, all_q)
                subset = run_queries(search, peer_q)
                ragqa_p50[mode] = full["latency"]["p50_ms"]
                results.append(
                    {
                        **common,
                        "system": f"ragqa {mode}",
                        **built,
                        **full["latency"],
                        "qps": full["qps"],
                        "ndcg@10": ndcg(dataset.qrels, full["run"]),
                        "ndcg@10_peer_subset": ndcg(dataset.qrels, subset["run"]),
                    }
                )
            run_peers = size <= args.peers_up_to
            if not run_peers:
                print(f"{size:,} chunks: peers skipped (above --peers-up-to)", file=sys.stderr)
            for name, (search, peer_built) in (peers(texts, doc_ids, embedder) if run_peers else {}).items():
                measured = run_queries(search, peer_q)
                versus = "bm25" if name.startswith("rank") else "hybrid"
                results.append(
                    {
                        **common,
                        "system": name,
                        **peer_built,
                        **measured["latency"],
                        "qps": measured["qps"],
                        "ndcg@10": None,
                        "ndcg@10_peer_subset": ndcg(dataset.qrels, measured["run"]),
                        "ragqa_speedup_p50": round(measured["latency"]["p50_ms"] / ragqa_p50[versus], 1),
                        "compared_with": f"ragqa {versus}",
                    }
                )
            searcher.reader.close()
            shutil.rmtree(settings.data_dir, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for r in results:
        rows.append(
            [
                r["system"],
                r["chunks"],
                r["build_s"],
                r["rss_growth_mb"],
                r["p50_ms"],
                r["p95_ms"],
                r["p99_ms"],
                r["qps"],
                r["ndcg@10"],
                r["ndcg@10_peer_subset"],
                r.get("ragqa_speedup_p50"),
            ]
        )
    print(
        table(
            [
                "system",
                "chunks",
                "build s",
                "RSS +MB",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "q/s (2 thr)",
                "nDCG@10",
                "nDCG@10 subset",
                "ragqa faster ×",
            ],
            rows,
        )
    )
    print(
        f"embedding (cached across systems and sizes): {embedder.embedded} chunks in {embedder.seconds:.1f} s"
    )
    write_json(
        out,
        {
            "machine": machine(),
            "k": K,
            "args": {k: str(v) for k, v in vars(args).items()},
            "embedding": {"chunks": embedder.embedded, "seconds": round(embedder.seconds, 1)},
            "results": results,
        },
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
