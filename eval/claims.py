"""Split an answer into checkable claims — sentences, then clauses — each carrying the citations it makes.

A citation written at the end of a sentence covers every clause of that sentence; a clause that carries its
own citation keeps only that one. Citation markers are removed from the claim text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ragqa.generation.citations import CITATION_GROUP, CITATION_NUMBER
from ragqa.generation.prompt import CJK_CHAR
from ragqa.sentences import split_sentences

# Clause boundaries: semicolons, and commas that open a new finite clause ("..., but ...", "……，但……").
_CLAUSE_EN = re.compile(r";\s+|,\s+(?=(?:and|but|while|whereas|although|though|yet|so)\s)", re.IGNORECASE)
_CLAUSE_ZH = re.compile(r"[；;]|[，,](?=(?:但是|但|而且|并且|而|不过|然而|同时|因此|所以)\S)")
_MIN_CLAUSE_WORDS = 4
_MIN_CLAUSE_CHARS_ZH = 6


@dataclass(frozen=True, slots=True)
class Claim:
    text: str  # without citation markers
    citations: tuple[int, ...] = field(default=())  # source numbers, 1-based, as written in the answer
    sentence: int = 0  # index of the answer sentence the claim came from


def _citations(text: str) -> tuple[int, ...]:
    seen: list[int] = []
    for group in CITATION_GROUP.findall(text):
        for n in CITATION_NUMBER.findall(group):
            if int(n) not in seen:
                seen.append(int(n))
    return tuple(seen)


def _strip(text: str) -> str:
    return re.sub(r"\s+", " ", CITATION_GROUP.sub("", text)).strip(" ,，;；")


def _long_enough(text: str) -> bool:
    if CJK_CHAR.search(text):
        return len(CJK_CHAR.findall(text)) >= _MIN_CLAUSE_CHARS_ZH
    return len(text.split()) >= _MIN_CLAUSE_WORDS


def _clauses(sentence: str) -> list[str]:
    pattern = _CLAUSE_ZH if CJK_CHAR.search(sentence) else _CLAUSE_EN
    pieces: list[str] = []
    start = 0
    for m in pattern.finditer(sentence):
        head, tail = sentence[start : m.start()], sentence[m.end() :]
        if _long_enough(_strip(head)) and _long_enough(_strip(tail)):
            pieces.append(head)
            start = m.end()
    pieces.append(sentence[start:])
    return pieces


def split_claims(answer: str) -> list[Claim]:
    """Claims of ``answer`` in order; text without letters or digits (a lone "[1]." ) makes no claim."""
    claims: list[Claim] = []
    for index, (start, end) in enumerate(split_sentences(answer)):
        sentence = answer[start:end]
        sentence_citations = _citations(sentence)
        for clause in _clauses(sentence):
            text = _strip(clause)
            if not any(ch.isalnum() for ch in text):
                continue
            own = _citations(clause)
            claims.append(Claim(text, own or sentence_citations, index))
    return claims
