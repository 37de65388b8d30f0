"""Readers for public evaluation sets, by path: BEIR folders and SQuAD-format JSON files."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from ragqa.errors import InputError
from ragqa.types import Document


@dataclass(frozen=True, slots=True)
class RetrievalSet:
    name: str
    corpus_path: Path
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    documents: list[Document] | None = None  # None: ingest ``corpus_path`` itself (BEIR corpus.jsonl)


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise InputError(f"{path}:{line_no}: invalid JSON ({exc.msg})") from exc
    return rows


def load_beir(folder: Path, split: str) -> RetrievalSet:
    corpus = folder / "corpus.jsonl"
    queries_path = folder / "queries.jsonl"
    qrels_path = folder / "qrels" / f"{split}.tsv"
    for needed in (corpus, queries_path, qrels_path):
        if not needed.is_file():
            raise InputError(f"not a BEIR folder: {needed} is missing")
    qrels: dict[str, dict[str, int]] = {}
    with qrels_path.open(encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter="\t")
        for row in reader:
            if len(row) < 3 or row[0] == "query-id":
                continue
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    all_queries = {str(q["_id"]): q["text"] for q in _read_jsonl(queries_path)}
    queries = {qid: all_queries[qid] for qid in qrels if qid in all_queries}
    if not queries:
        raise InputError(f"no queries of {qrels_path} are in {queries_path}")
    return RetrievalSet(f"beir-{folder.name}-{split}", corpus, queries, qrels)


def load_squad_retrieval(path: Path) -> RetrievalSet:
    """Each paragraph is a document; each question's one relevant document is its own paragraph."""
    if not path.is_file():
        raise InputError(f"no such SQuAD file: {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(f"{path} is not SQuAD-format JSON ({exc})") from exc
    documents: list[Document] = []
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    for a, article in enumerate(data):
        title = str(article.get("title", "")).strip()
        for p, paragraph in enumerate(article["paragraphs"]):
            doc_id = f"a{a}-p{p}"
            documents.append(Document(doc_id, paragraph["context"], title, str(path)))
            for qa in paragraph["qas"]:
                if not str(qa.get("question", "")).strip():
                    continue  # a few public sets hold empty questions
                qid = str(qa["id"])
                queries[qid] = qa["question"]
                qrels[qid] = {doc_id: 1}
    return RetrievalSet(f"squad-{path.stem}", path, queries, qrels, documents)
