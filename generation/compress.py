"""Context compression (``RAGQA_COMPRESS_CONTEXT``, off by default): show the model less of each source.

The best-ranked source is shown whole; every other one only by its sentence that bears most on the question:
sentences score by the question's terms they hold (BM25's tokenizer: stemmed English, jieba for Chinese), each
weighted by how rare it is among these sentences. A sentence already shown in an earlier source (chunks
overlap) is not repeated; a source holding none of the question's terms is dropped. The hits themselves do not
change: citations, spans and verification still refer to the whole chunk.

Measured on XQuAD-en questions 200–399 and CMRC trial 200–399 (``bench/answer.py --compression``): prompt
tokens −37% / −43%, the gold answer still in the prompt for 196 / 189 of 200 questions (198 / 196 with whole
sources) — the reason it is not the default; five whole sources cut to three gave −28% / −30% for 198 / 195.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from ragqa.retrieval.lexical import LexicalTokenizer
from ragqa.sentences import split_sentences
from ragqa.types import Hit

GAP = " … "
WHOLE_TOP = 1  # the best-ranked chunks shown whole
NEIGHBOURS = 0  # sentences kept either side of a chunk's best one


@lru_cache(maxsize=1)
def _tokenizer() -> LexicalTokenizer:
    return LexicalTokenizer()


@dataclass(frozen=True, slots=True)
class Compressed:
    hits: list[Hit]  # the chunks kept, in rank order
    texts: list[str]  # what the model is shown of each


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _runs(text: str, spans: list[tuple[int, int]], order: list[int]) -> str:
    """The kept sentences as they stand in the chunk; a gap between them shows as "…"."""
    parts: list[str] = []
    start, end = spans[0]
    for (s, e), i, previous in zip(spans[1:], order[1:], order, strict=False):
        if i == previous + 1:
            end = e
        else:
            parts.append(text[start:end])
            start, end = s, e
    parts.append(text[start:end])
    return GAP.join(parts)


def compress(
    question: str, hits: Sequence[Hit], whole_top: int = WHOLE_TOP, neighbours: int = NEIGHBOURS
) -> Compressed:
    """The ``whole_top`` best-ranked hits whole, each other one by its best sentence and ``neighbours`` either
    side of it."""
    tokenize = _tokenizer().tokenize
    asked = set(tokenize(question))
    spans = [split_sentences(hit.text) for hit in hits]
    sentences = [[hit.text[s:e] for s, e in chunk] for hit, chunk in zip(hits, spans, strict=True)]
    terms = [[set(tokenize(s)) for s in chunk] for chunk in sentences]
    count = sum(len(chunk) for chunk in terms) or 1
    df = Counter(t for chunk in terms for sentence in chunk for t in sentence & asked)
    idf = {t: math.log(1 + count / n) for t, n in df.items()}
    shown: set[str] = set()
    kept_hits: list[Hit] = []
    texts: list[str] = []
    for rank, (hit, chunk, chunk_terms) in enumerate(zip(hits, sentences, terms, strict=True)):
        scores = [sum(idf.get(t, 0.0) for t in sentence & asked) for sentence in chunk_terms]
        best = max(scores, default=0.0)
        if best <= 0 and rank > 0:
            continue
        if rank < whole_top or len(chunk) < 2:
            keep = set(range(len(chunk)))
        else:
            top = scores.index(best)
            keep = {i for i in range(top - neighbours, top + neighbours + 1) if 0 <= i < len(chunk)}
        fresh = [i for i in sorted(keep) if _key(chunk[i]) not in shown]
        shown.update(_key(chunk[i]) for i in fresh)
        if fresh:
            kept_hits.append(hit)
            texts.append(_runs(hit.text, [spans[rank][i] for i in fresh], fresh))
    return Compressed(kept_hits, texts)
