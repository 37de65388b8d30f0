"""Split documents into token-bounded chunks on sentence boundaries, with overlap and heading context."""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ragqa.sentences import split_sentences
from ragqa.types import Chunk, Document

CountTokens = Callable[[Sequence[str]], list[int]]
TokenOffsets = Callable[[str], list[tuple[int, int]]]

_CONTEXT_MAX_CHARS = 200


def chunk_id_for(doc_id: str, context: str, text: str) -> str:
    """Content-derived id: the same text under the same document and heading always gets the same id."""
    return hashlib.sha256(f"{doc_id}\x00{context}\x00{text}".encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class _Unit:
    start: int
    end: int
    tokens: int


class Chunker:
    """Greedy sentence packing up to ``max_tokens`` (context included), ``overlap`` tokens carried over."""

    def __init__(
        self, count_tokens: CountTokens, token_offsets: TokenOffsets, *, max_tokens: int, overlap: int
    ) -> None:
        if overlap >= max_tokens:
            raise ValueError("overlap must be smaller than max_tokens")
        self._count = count_tokens
        self._offsets = token_offsets
        self.max_tokens = max_tokens
        self.overlap = overlap

    def _context_for(self, doc: Document, start: int) -> str:
        heading = ""
        if doc.headings:
            i = bisect.bisect_right([offset for offset, _ in doc.headings], start) - 1
            if i >= 0:
                heading = doc.headings[i][1]
        parts = [p for p in (doc.title.strip(), heading.strip()) if p]
        if len(parts) == 2 and parts[0] == parts[1]:
            parts = parts[:1]
        return " > ".join(parts)[:_CONTEXT_MAX_CHARS]

    def _units(self, text: str, spans: list[tuple[int, int]], counts: list[int], budget: int) -> list[_Unit]:
        """Sentences, with any sentence longer than ``budget`` cut at token boundaries."""
        units: list[_Unit] = []
        for (start, end), count in zip(spans, counts, strict=True):
            if count <= budget:
                units.append(_Unit(start, end, count))
                continue
            offsets = self._offsets(text[start:end])
            i = 0
            while i < len(offsets):
                j = min(i + budget, len(offsets))
                if j < len(offsets):  # prefer a cut between words over one inside a word
                    gap = next((c for c in range(j, i, -1) if offsets[c][0] > offsets[c - 1][1]), None)
                    j = gap or j
                units.append(_Unit(start + offsets[i][0], start + offsets[j - 1][1], j - i))
                i = j
        return units

    def chunk(self, doc: Document) -> list[Chunk]:
        return self.chunk_many([doc])[0]

    def chunk_many(self, docs: Sequence[Document]) -> list[list[Chunk]]:
        """Chunks of each document; one tokenizer call counts every sentence of every document (a call per
        document costs the tokenizer's thread start-up each time: ~2x slower on abstracts)."""
        spans = [split_sentences(doc.text) for doc in docs]
        contexts = [self._context_for(doc, 0) if (doc.title or doc.headings) else "" for doc in docs]
        texts: list[str] = []
        for doc, doc_spans, context in zip(docs, spans, contexts, strict=True):
            texts.append(context)
            texts.extend(doc.text[s:e] for s, e in doc_spans)
        counts = self._count(texts)
        out: list[list[Chunk]] = []
        at = 0
        for doc, doc_spans in zip(docs, spans, strict=True):
            out.append(self._pack(doc, doc_spans, counts[at], counts[at + 1 : at + 1 + len(doc_spans)]))
            at += 1 + len(doc_spans)
        return out

    def _pack(
        self, doc: Document, spans: list[tuple[int, int]], context_tokens: int, counts: list[int]
    ) -> list[Chunk]:
        """Greedy packing of one document's sentences (token counts given) into chunks."""
        text = doc.text
        budget = max(self.max_tokens - context_tokens - 2, self.max_tokens // 2)
        units = self._units(text, spans, counts, budget)
        groups: list[list[_Unit]] = []
        current: list[_Unit] = []
        used = 0
        for unit in units:
            if current and used + unit.tokens > budget:
                groups.append(current)
                carried: list[_Unit] = []
                carried_tokens = 0
                for prev in reversed(current):
                    if (
                        carried_tokens + prev.tokens > self.overlap
                        or carried_tokens + prev.tokens + unit.tokens > budget
                    ):
                        break
                    carried.insert(0, prev)
                    carried_tokens += prev.tokens
                current, used = carried, carried_tokens
            current.append(unit)
            used += unit.tokens
        if current:
            groups.append(current)

        chunks: list[Chunk] = []
        seen: set[str] = set()
        for group in groups:
            start, end = group[0].start, group[-1].end
            body = text[start:end]
            context = self._context_for(doc, start)
            cid = chunk_id_for(doc.doc_id, context, body)
            if cid in seen:
                continue
            seen.add(cid)
            chunks.append(Chunk(cid, doc.doc_id, len(chunks), body, context, start, end))
        return chunks
