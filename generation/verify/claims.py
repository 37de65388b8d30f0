"""Split an answer into checkable claims — sentences, then clauses — each carrying the citations it makes.

A citation written at the end of a sentence covers every clause of that sentence; a clause that carries its
own citation keeps only that one. Citation markers are removed from the claim text. A sentence that only says
where the answer came from and cites ("This information is found in [1] and [2].", "以上信息来自【1】。") is not
a claim: its citations go to the uncited claims before it. Nor is an opening that names the cited source
("According to [2], ..."): the claim is what follows, with that citation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ragqa.cjk import CJK_CHAR
from ragqa.generation.citations import CITATION_GROUP, CITATION_NUMBER
from ragqa.sentences import split_sentences

# Clause boundaries: semicolons, and commas that open a new finite clause ("..., but ...", "……，但……").
_CLAUSE_EN = re.compile(r";\s+|,\s+(?=(?:and|but|while|whereas|although|though|yet|so)\s)", re.IGNORECASE)
_CLAUSE_ZH = re.compile(r"[；;]|[，,](?=(?:但是|但|而且|并且|而|不过|然而|同时|因此|所以)\S)")
# Words an attribution sentence is made of, and nothing else ("This can be seen in [2] and [3].").
_ATTRIBUTION_EN = frozenset(
    """this that these those it the above all both each information info answer answers fact facts details
    detail data statement is are was were can could be been being found seen read in from by of on at to with
    as and or also supported stated mentioned given provided shown cited indicated noted described explained
    confirmed according based source sources see document documents passage passages text context reference
    references comes come taken per respectively""".split(),  # noqa: SIM905 — a word list reads better so
)
_ATTRIBUTION_ZH = re.compile(
    r"以上|上述|这些|这一|这个|这|此|该|相关|信息|答案|内容|资料|文档|文献|段落|来源|来自|出自|引自|根据|参见|参考|"
    r"详见|见|可以|可|在|中|于|找到|提到|给出|所述|和|与|及|以及|或|是|的|都|均|了"
)
# A clause that opens by naming its cited source ("According to [2], ...", "Based on source [1] and [3]: ...",
# "根据【1】，……"): the opening is not part of the claim; the claim keeps the citations.
_CITES = rf"(?:{CITATION_GROUP.pattern}(?:\s*(?:,|and|&|、|和|与))*\s*)+"
_ATTRIBUTION_LEAD = re.compile(
    r"^\s*(?:according\s+to|based\s+on|as\s+(?:stated|mentioned|shown|noted|described|reported|indicated|given)"
    r"\s+(?:in|by)|as\s+per|per|from|in)\s+(?:(?:the\s+)?(?:sources?|documents?|passages?|texts?|references?)\s*)?"
    rf"{_CITES}[,:，：]\s*"
    rf"|^\s*(?:根据|据|依据|按照)\s*(?:来源|资料|文档|文献)?\s*{_CITES}(?:所述|的信息|的内容|中)?\s*[,:，：]?\s*",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z]+|\d+")
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


def is_attribution(text: str) -> bool:
    """True when ``text`` (markers stripped) only points at sources: "This is supported by", "以上信息来自"."""
    if CJK_CHAR.search(text):
        rest = _ATTRIBUTION_ZH.sub("", text)
        return not CJK_CHAR.search(rest) and not _WORD.search(rest)
    words = _WORD.findall(text.lower())
    return bool(words) and all(w in _ATTRIBUTION_EN for w in words)


def _cite_uncited(claims: list[Claim], citations: tuple[int, ...]) -> None:
    """Give ``citations`` to the trailing run of claims that carry none (what an attribution sentence covers)."""
    i = len(claims)
    while i > 0 and not claims[i - 1].citations:
        i -= 1
    for j in range(i, len(claims)):
        claims[j] = Claim(claims[j].text, citations, claims[j].sentence)


def split_claims(answer: str) -> list[Claim]:
    """Claims of ``answer`` in order; text without letters or digits (a lone "[1]." ) makes no claim, nor does
    an attribution sentence, whose citations go to the uncited claims before it."""
    claims: list[Claim] = []
    for index, (start, end) in enumerate(split_sentences(answer)):
        sentence = answer[start:end]
        sentence_citations = _citations(sentence)
        if sentence_citations and is_attribution(_strip(sentence)):
            _cite_uncited(claims, sentence_citations)
            continue
        for clause in _clauses(sentence):
            lead = _ATTRIBUTION_LEAD.match(clause)
            claim = clause[lead.end() :] if lead else clause
            text = _strip(claim if any(ch.isalnum() for ch in claim) else clause)
            if not any(ch.isalnum() for ch in text):
                continue
            own = _citations(clause)
            claims.append(Claim(text, own or sentence_citations, index))
    return claims
