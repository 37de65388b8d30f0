"""Lexical grounding of a claim in its sources: are the claim's content words, numbers and names there?

Only what the claim adds counts: words, numbers and names that already appear in the question are context the
user supplied, not something the answer asserts. A number must also count what the sources count: "24 points"
is not grounded by sources that say "24 interceptions" and "308 points" (English; a number directly followed
by a word the sources use with numbers). In Chinese, numerals count as digits (四次 = 4 次), and a number of the
claim must share a source sentence with one of the claim's words ("客队最后三分钟拿下 308 分" is not grounded by
"主队全年只丢了 308 分").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ragqa.cjk import CJK_CHAR
from ragqa.generation.verify.chinese_numbers import MEASURE_WORDS, digits_for_numerals
from ragqa.retrieval.lexical import LexicalTokenizer

_NUMBER = re.compile(r"(?<![\w.])\d+(?:[,，]\d{3})*(?:\.\d+)?(?![\w])|\d+")
# A name: a capitalised word (or a run of them) not opening the claim, e.g. "Bauer Media Group", "Mumbai".
# A number and the word right after it in a claim: "308 points", "3.5 yards", "1,000 fans".
_QUANTITY = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)*)\s+([A-Za-z][A-Za-z'-]*)")
_WORD_OR_NUMBER = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")
_UNIT_WINDOW = 3  # a number and the word it counts stand at most this many content words apart
# Chinese: a number and what it is said of share a sentence.
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;\n])")
_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")


# Function words that carry no claim (the BM25 stop list is short on purpose; grounding wants a longer one).
_FUNCTION_WORDS = """
a about above after again against all also am an and any are as at be because been before being below between
both but by can could did do does doing done down during each either else ever few for from further had has
have having he her here hers herself him himself his how however i if in into is it its itself just may me
might more most much must my myself neither no nor not now of off on once one only or other our ours out over
own per same shall she should since so some such than that the their theirs them themselves then there these
they this those though through thus to too under until up upon us very was we were what when where whether
which while who whom whose why will with within without would yes yet you your
"""


@lru_cache(maxsize=1)
def _tokenizer() -> LexicalTokenizer:
    return LexicalTokenizer("precise")


@lru_cache(maxsize=1)
def _function_stems() -> frozenset[str]:
    return frozenset(_tokenizer().tokenize(_FUNCTION_WORDS))


def _content(text: str) -> list[str]:
    skip = _function_stems()
    return [t for t in _tokenizer().tokenize(text) if t not in skip]


_NUMBER_WORDS = {
    w: str(n)
    for n, w in enumerate(
        """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
        seventeen eighteen nineteen twenty""".split()  # noqa: SIM905 — a word list reads better so
    )
}
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)


def _numbers(text: str) -> set[str]:
    return {_normal_number(m) for m in _NUMBER.findall(text)}


def _spelled_numbers(text: str) -> set[str]:
    """Numbers written as words ("six" → "6"), so a claim's 6 is grounded by a source's six."""
    return {_NUMBER_WORDS[m.lower()] for m in _NUMBER_WORD.findall(text)}


def _normal_number(text: str) -> str:
    return text.replace(",", "").replace("，", "")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str | None:
    tokens = _tokenizer().tokenize(word)
    return tokens[0] if len(tokens) == 1 else None


def _positional(text: str) -> list[str]:
    """Content words (stemmed) and whole numbers in order, function words dropped: "308 point", "24 10"."""
    out: list[str] = []
    for m in _WORD_OR_NUMBER.finditer(text):
        word = m.group(0)
        if word[0].isdigit():
            out.append(_normal_number(word))
        elif CJK_CHAR.search(word):  # a run of Chinese is many words
            out.extend(t for t in _tokenizer().tokenize(word) if t not in _function_stems())
        elif (stem := _stem(word.lower())) is not None and stem not in _function_stems():
            out.append(stem)
    return out


_POSSESSIVE = re.compile(r"(?:['’]s?)$")


def _names(text: str) -> list[str]:
    """Capitalised names, possessives cut ("Broncos'" → "Broncos", "Tesla's" → "Tesla")."""
    names = (_POSSESSIVE.sub("", m.group(0)) for m in _NAME.finditer(text))
    return [n for n in names if n]


@dataclass(frozen=True, slots=True)
class LexicalGrounding:
    coverage: float  # share of the claim's new content tokens found in the sources (1.0 when it adds none)
    new_tokens: int
    missing_numbers: tuple[str, ...]
    missing_names: tuple[str, ...]
    misbound_numbers: tuple[str, ...] = ()  # "24 points" where the sources' 24 counts something else

    @property
    def details_missing(self) -> bool:
        """A number or a name the sources never mention, or a number attached to the wrong quantity: the
        typical shape of a made-up detail."""
        return bool(self.missing_numbers or self.missing_names or self.misbound_numbers)


class SourceGrounding:
    """The sources' tokens, numbers and text (and the question's), prepared once for all claims of an answer."""

    def __init__(self, sources: str, question: str = "") -> None:
        sources, question = digits_for_numerals(sources), digits_for_numerals(question)
        self.given = set(_content(question))
        self.source_tokens = set(_tokenizer().tokenize(sources))
        self.question_numbers = _numbers(question)
        spelled = _spelled_numbers(sources)
        self.source_tokens |= spelled  # a claim's "6" is in sources that say "six"
        self.known_numbers = _numbers(sources) | spelled | self.question_numbers
        self.lowered_sources, self.lowered_question = sources.lower(), question.lower()
        self._units_near: dict[str, set[str]] = {}  # number -> words within the window around it
        self._context_near: dict[str, set[str]] = {}  # number -> words of the sentences it is in (Chinese)
        words: list[str] = []  # the sources' positional words, tokenized once, sentence by sentence
        for sentence in _SENTENCE_END.split(sources):
            in_sentence = _positional(sentence)
            words += in_sentence
            for word in in_sentence:
                if word[0].isdigit():
                    self._context_near.setdefault(word, set()).update(in_sentence)
        for i, word in enumerate(words):
            if word[0].isdigit():
                near = words[max(0, i - _UNIT_WINDOW) : i + _UNIT_WINDOW + 1]
                self._units_near.setdefault(word, set()).update(w for w in near if not w[0].isdigit())
        self._counted = set().union(*self._units_near.values()) if self._units_near else set()

    def _misbound(self, claim: str) -> list[str]:
        """Numbers of ``claim`` the sources have, but never near the word the claim counts with them — when
        the sources do use that word with numbers (so a paraphrased unit is not held against the claim)."""
        out: list[str] = []
        for number, word in _QUANTITY.findall(claim):
            number, unit = _normal_number(number), _stem(word.lower())
            if unit is None or unit in _function_stems() or unit not in self._counted:
                continue
            near = self._units_near.get(number)
            if near is not None and unit not in near and number not in self.question_numbers:
                out.append(f"{number} {word}")
        return out

    def _unbound(self, claim: str) -> list[str]:
        """Chinese: numbers of ``claim`` the sources have, but never in a sentence with a word the claim says
        them of (its words other than numbers and measure words; a claim of a bare number is left alone)."""
        words = _positional(claim)
        context = {w for w in words if not w[0].isdigit() and w not in MEASURE_WORDS}
        if not context:
            return []
        return [
            number
            for number in dict.fromkeys(w for w in words if w[0].isdigit())
            if number in self._context_near
            and number not in self.question_numbers
            and not context & self._context_near[number]
        ]

    def check(self, claim: str) -> LexicalGrounding:
        claim = digits_for_numerals(claim)
        chinese = CJK_CHAR.search(claim) is not None
        new = [t for t in dict.fromkeys(_content(claim)) if t not in self.given and t not in MEASURE_WORDS]
        found = sum(t in self.source_tokens for t in new)
        missing_names = [
            name
            for name in dict.fromkeys(_names(claim))
            if name.lower() not in self.lowered_question
            and not all(part.lower() in self.lowered_sources for part in name.split())
        ]
        return LexicalGrounding(
            coverage=found / len(new) if new else 1.0,
            new_tokens=len(new),
            missing_numbers=tuple(sorted(_numbers(claim) - self.known_numbers)),
            missing_names=tuple(missing_names),
            misbound_numbers=tuple(self._unbound(claim) if chinese else self._misbound(claim)),
        )


def lexical_grounding(claim: str, sources: str, question: str = "") -> LexicalGrounding:
    return SourceGrounding(sources, question).check(claim)
