"""Ingestion throughput end to end against the raw embedding throughput of the same embedder on the same chunks.

    python bench/ingest.py                    # the first 2,000 SciFact abstracts
    python bench/ingest.py --docs 5183 --embedder minilm
    python bench/ingest.py --smoke            # seconds-long check that the script works (CI)

End to end is ``ragqa ingest`` of a JSONL file into a fresh data dir: read, parse, chunk (embedder tokenizer),
embed, BM25, HNSW insert, atomic commit. The ceiling is ``embed_documents`` alone on exactly the chunk texts
that ingestion embedded, in the pipeline's batch size. The ratio shows what everything but the embedding costs.
Prints a table, writes bench/results/ingest.json.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, WrappedEmbedder, machine, shared_data, table, write_json

from ragqa.config import load_settings
from ragqa.ingest.pipeline import Ingestor
from ragqa.retrieval.embedders import ENGLISH, Embedder, get_embedder
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=shared_data() / "scifact" / "corpus.jsonl")
    parser.add_argument("--docs", type=int, default=2000, help="first N records of the corpus")
    parser.add_argument("--embedder", default=ENGLISH)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--smoke", action="store_true", help="tiny run that only checks the script works")
    args = parser.parse_args()
    if args.smoke:
        args.docs = 40
    out = args.out or RESULTS / f"ingest{'-smoke' if args.smoke else ''}.json"

    work = Path(tempfile.mkdtemp(prefix="ragqa-bench-ingest-"))
    try:
        sample = work / "corpus.jsonl"
        with args.corpus.open(encoding="utf-8") as src, sample.open("w", encoding="utf-8") as dst:
            for i, line in enumerate(src):
                if i >= args.docs:
                    break
                dst.write(line)
        settings = load_settings(data_dir=work / "data", embedder=args.embedder)
        embedder = TimedEmbedder(get_embedder(settings, args.embedder))
        embedder.inner.embed_documents(["load the model before anything is timed"] * 8)

        t0 = time.perf_counter()
        with Ingestor(settings, embedder=embedder, progress=sys.stderr.isatty()) as ingestor:
            report = ingestor.ingest_paths([sample])
        end_to_end = time.perf_counter() - t0
        chunks = report.chunks_embedded

        searcher = open_searcher(settings)
        texts = [text for text, _ in searcher.reader.docstore.iter_indexed()]
        searcher.reader.close()
        t0 = time.perf_counter()
        for start in range(0, len(texts), BATCH):
            embedder.inner.embed_documents(texts[start : start + BATCH])
        raw = time.perf_counter() - t0
    finally:
        shutil.rmtree(work, ignore_errors=True)

    e2e_rate, raw_rate = chunks / end_to_end, len(texts) / raw
    result = {
        "machine": machine(),
        "embedder": args.embedder,
        "documents": args.docs,
        "chunks": chunks,
        "end_to_end_s": round(end_to_end, 2),
        "embedding_inside_ingest_s": round(embedder.seconds, 2),
        "raw_embedding_s": round(raw, 2),
        "end_to_end_chunks_per_s": round(e2e_rate, 1),
        "raw_chunks_per_s": round(raw_rate, 1),
        "share_of_ceiling": round(e2e_rate / raw_rate, 4),
    }
    print(
        table(
            ["path", "chunks", "seconds", "chunks/s", "share of ceiling"],
            [
                ["raw embed_documents (ceiling)", len(texts), raw, raw_rate, 1.0],
                ["ragqa ingest end to end", chunks, end_to_end, e2e_rate, result["share_of_ceiling"]],
                ["  of which embedding", chunks, embedder.seconds, chunks / embedder.seconds, None],
            ],
        )
    )
    write_json(out, result)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
