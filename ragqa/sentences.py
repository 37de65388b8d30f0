"""Sentence boundaries for English and Chinese text, as character spans into the original string."""

from __future__ import annotations

import re

_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "fig",
        "figs",
        "al",
        "no",
        "vol",
        "pp",
        "eq",
        "eqs",
        "approx",
        "inc",
        "ltd",
        "co",
        "cf",
        "resp",
        "ref",
        "refs",
        "sec",
        "ch",
        "dept",
        "est",
        "min",
        "max",
        "mt",
        "ft",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "u.s",
        "u.k",
    ]
)
# A terminator run: CJK/!/? marks (no space needed after them), or periods followed by white space.
_CJK_END = re.compile(r"(?:[。！？；!?]+|…+|\.{3})[”’」』）)\]\"']*")
_PERIOD_END = re.compile(r"\.[”’)\]\"']*(?=\s)")
_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")
_LINE_START_BLOCK = re.compile(r"\n(?=[ \t]*(?:#{1,6}\s|[-*•]\s|\d+[.)]\s|\|))")
_HEADING_LINE = re.compile(r"^[ \t]*#{1,6}\s[^\n]*(?=\n)", re.MULTILINE)
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")


def _period_is_boundary(text: str, dot: int, after: int) -> bool:
    word = _WORD_BEFORE.search(text, max(0, dot - 12), dot)
    if word:
        token = word.group(1).lower().rstrip(".")
        if token in _ABBREVIATIONS or (len(token) == 1 and text[dot - 1].isupper()):
            return False
    nxt = re.compile(r"\S").search(text, after)
    return nxt is None or not nxt.group().islower()


def _cut_points(text: str) -> list[int]:
    cuts: set[int] = set()
    for m in _CJK_END.finditer(text):
        cuts.add(m.end())
    for m in _PERIOD_END.finditer(text):
        if _period_is_boundary(text, m.start(), m.end()):
            cuts.add(m.end())
    for m in _PARAGRAPH.finditer(text):
        cuts.add(m.start())
    for m in _LINE_START_BLOCK.finditer(text):
        cuts.add(m.start())
    for m in _HEADING_LINE.finditer(text):
        cuts.add(m.end())
    for m in re.finditer(r"(?<=[:：])\n", text):
        cuts.add(m.start())
    return sorted(cuts)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Return ``(start, end)`` spans of sentences, white space trimmed, in order, covering all non-space text."""
    spans: list[tuple[int, int]] = []
    start = 0
    for cut in [*_cut_points(text), len(text)]:
        if cut <= start:
            continue
        s, e = start, cut
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
        start = cut
    return spans
