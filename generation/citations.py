"""Inline citations: parse [n] / [n, m] / 【n】, drop those that point outside the sources, map the rest to
chunks, and flag sentences that cite nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ragqa.sentences import split_sentences
from ragqa.types import Hit

# "[1]", "[1, 2]", "【3】" as the model writes them; group 1 holds the numbers
CITATION_GROUP = re.compile(r"\s?[\[【]\s*(\d{1,3}(?:\s*[,，、;]\s*\d{1,3})*)\s*[\]】]")
CITATION_NUMBER = re.compile(r"\d{1,3}")
CITATION_MARKER = re.compile(r"\[\d+\]")  # one marker after check_citations normalised the text
_TRAILING = re.compile(r"([.。!?！？])\s*((?:\[\d{1,3}\])+)")


@dataclass(slots=True)
class CitationReport:
    text: str  # the answer with invalid citations removed
    cited: list[int]  # valid source numbers, in order of first use
    invalid: int  # citations removed because no such source was given
    uncited_sentences: list[str] = field(default_factory=list)


def check_citations(answer: str, n_sources: int) -> CitationReport:
    cited: list[int] = []
    invalid = 0

    def rewrite(match: re.Match[str]) -> str:
        nonlocal invalid
        numbers = [int(x) for x in CITATION_NUMBER.findall(match.group(1))]
        valid = [n for n in numbers if 1 <= n <= n_sources]
        invalid += len(numbers) - len(valid)
        for n in valid:
            if n not in cited:
                cited.append(n)
        lead = " " if match.group(0).startswith(" ") else ""
        return lead + "".join(f"[{n}]" for n in valid) if valid else ""

    text = CITATION_GROUP.sub(rewrite, answer).strip()
    text = _TRAILING.sub(lambda m: f"{m.group(2)}{m.group(1)}", text)  # "fact. [1]" -> "fact[1]."
    uncited = []
    for start, end in split_sentences(text):
        sentence = text[start:end]
        if not CITATION_GROUP.search(sentence) and any(ch.isalnum() for ch in sentence):
            uncited.append(sentence)
    return CitationReport(text, cited, invalid, uncited)


def citation_json(n: int, hit: Hit) -> dict[str, Any]:
    return {
        "n": n,
        "chunk_id": hit.chunk_id,
        "doc_id": hit.doc_id,
        "title": hit.title,
        "source": hit.source,
        "span": list(hit.span),
        "text": hit.text,
    }
