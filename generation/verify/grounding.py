"""Lexical grounding of a claim in its sources: are the claim's content words, numbers and names there?

Only what the claim adds counts: words, numbers and names that already appear in the question are context the
user supplied, not something the answer asserts. A number must also count what the sources count: "24 points"
is not grounded by sources that say "24 interceptions" and "308 points" (English; a number directly followed
by a word the sources use with numbers). In Chinese, numerals count as digits (四次 = 4 次), and a number of the
claim must share a source sentence with one of the claim's words ("客队最后三分钟拿下 308 分" is not grounded by
"主队全年只丢了 308 分").
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from ragqa.cjk import CJK_CHAR
from ragqa.generation.citations import CITATION_MARKER
from ragqa.generation.verify.chinese_numbers import MEASURE_WORDS, digits_for_numerals
from ragqa.generation.verify.english_forms import ages_as_age, irregular_forms
from ragqa.retrieval.lexical import LexicalTokenizer
from ragqa.sentences import split_sentences

_NUMBER = re.compile(r"(?<![\w.])\d+(?:[,，]\d{3})*(?:\.\d+)?(?![\w])|\d+")
# A name: a capitalised word (or a run of them) not opening the claim, e.g. "Bauer Media Group", "Mumbai".
# A number and the word right after it in a claim: "308 points", "3.5 yards", "1,000 fans".
_QUANTITY = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)*)\s+([A-Za-z][A-Za-z'-]*)")
_WORD_OR_NUMBER = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+")
_UNIT_WINDOW = 3  # a number and the word it counts stand at most this many content words apart
# Chinese: a number and what it is said of share a sentence.
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;\n])")
# Latin letters and digits only: a name ends where Chinese begins ("OpenCourseWare的目标" names OpenCourseWare)
# and may start right after it ("的OpenCourseWare"); next to Latin text it starts and ends where \b would.
_LATIN = "A-Za-z0-9\u00c0-\u024f\u1e00-\u1eff"
_NAME = re.compile(rf"(?<!^)(?<![.!?]\s)(?<![{_LATIN}_])[A-Z][{_LATIN}'’-]*(?:\s+[A-Z][{_LATIN}'’-]*)*")


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


@lru_cache(maxsize=1)
def _base_stems() -> dict[str, str]:
    """Stem of each irregular verb form → stem of its base ("sang" → "sing"), in the tokenizer's terms."""
    stem = _tokenizer().tokenize
    pairs = ((stem(form), stem(base)) for form, base in irregular_forms().items())
    return {f[0]: b[0] for f, b in pairs if len(f) == 1 and len(b) == 1 and f != b}


def _tokens(text: str) -> list[str]:
    """The tokenizer's stems, irregular verb forms as their base ("began" counts as "begin")."""
    bases = _base_stems()
    return [bases.get(t, t) for t in _tokenizer().tokenize(text)]


def _content(text: str) -> list[str]:
    skip = _function_stems()
    return [t for t in _tokens(text) if t not in skip]


NUMBER_WORDS = {
    w: str(n)
    for n, w in enumerate(
        """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
        seventeen eighteen nineteen twenty""".split()  # noqa: SIM905 — a word list reads better so
    )
}
_NUMBER_WORD = re.compile(r"\b(" + "|".join(NUMBER_WORDS) + r")\b", re.IGNORECASE)


def _numbers(text: str) -> set[str]:
    return {_normal_number(m) for m in _NUMBER.findall(text)}


def _spelled_numbers(text: str) -> set[str]:
    """Numbers written as words ("six" → "6"), so a claim's 6 is grounded by a source's six."""
    return {NUMBER_WORDS[m.lower()] for m in _NUMBER_WORD.findall(text)}


def _normal_number(text: str) -> str:
    return text.replace(",", "").replace("，", "")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str | None:
    tokens = _tokens(word)
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


@dataclass(frozen=True, slots=True)
class _Passage:
    tokens: set[str]
    text: str  # lower-cased, for Chinese words found as written (see ``_present``)


def _passages(source: str, title: str = "") -> list[_Passage]:
    """Each sentence of one source joined with the next (a pronoun's referent is often one back), under the
    source's title."""
    spans = split_sentences(source)
    words = [set(_tokens(source[a:b])) for a, b in spans]  # each sentence tokenized once, not once per pair
    headed = set(_tokens(title))
    pairs = list(itertools.pairwise(range(len(spans)))) or [(i, i) for i in range(len(spans))]
    return [
        _Passage(headed | words[i] | words[j], f"{title}\n{source[spans[i][0] : spans[j][1]]}".lower())
        for i, j in pairs
    ]


def _present(token: str, tokens: set[str], text: str) -> bool:
    """A token is in a text when the text's tokens hold it — or, for a Chinese word of two or more characters,
    when the text holds it as written: jieba segments the same words differently in different contexts
    ("卡万·肖特以" gives 肖特以, so a claim's 肖特 is not among the sources' tokens)."""
    return token in tokens or (len(token) >= 2 and CJK_CHAR.match(token) is not None and token in text)


def _normal(text: str) -> str:
    """Numbers and ages written one way: Chinese numerals as digits, "38 years old" as "age 38"."""
    return ages_as_age(digits_for_numerals(text))


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
    # Of the claim's words the sources have, the largest share one passage (a sentence and its neighbour)
    # has: low when the words come from passages about other things ("national anthem" in one source,
    # "United Methodist Church" in another). 1.0 when the sources have none of them.
    locality: float = 1.0

    @property
    def details_missing(self) -> bool:
        """A number or a name the sources never mention, or a number attached to the wrong quantity: the
        typical shape of a made-up detail."""
        return bool(self.missing_numbers or self.missing_names or self.misbound_numbers)


class SourceGrounding:
    """The sources' tokens, numbers and text (and the question's), prepared once for all claims of an answer."""

    def __init__(self, sources: str | Sequence[str], question: str = "", titles: Sequence[str] = ()) -> None:
        """``sources``: one text or the texts of several sources; ``titles``: their titles as the prompt showed
        them (the claim may use their words too)."""
        texts = [_normal(sources)] if isinstance(sources, str) else [_normal(t) for t in sources]
        named = [_normal(t) for t in titles] + [""] * (len(texts) - len(titles))
        self._passages = [
            p for text, title in zip(texts, named, strict=False) for p in _passages(text, title)
        ]
        sources, question = "\n".join([*(t for t in named if t), *texts]), _normal(question)
        self.given = set(_content(question))
        # The question's Chinese words as written, longest first (see ``_new_words``).
        self._given_chinese = sorted(
            (w for w in self.given if len(w) >= 2 and CJK_CHAR.fullmatch(w[0])), key=len, reverse=True
        )
        self.source_tokens = set(_tokens(sources))
        self.question_numbers = _numbers(question)
        spelled = _spelled_numbers(sources)
        self.source_tokens |= spelled  # a claim's "6" is in sources that say "six"
        self.known_numbers = _numbers(sources) | spelled | self.question_numbers
        self.lowered_sources, self.lowered_question = sources.lower(), question.lower()
        self._units_near: dict[str, set[str]] = {}  # number -> words within the window around it
        self._context_near: dict[str, set[str]] = {}  # number -> words of the sentences it is in (Chinese)
        self._text_near: dict[str, str] = {}  # number -> the lowered text of those sentences
        words: list[str] = []  # the sources' positional words, tokenized once, sentence by sentence
        for sentence in _SENTENCE_END.split(sources):
            in_sentence = _positional(sentence)
            words += in_sentence
            for number in dict.fromkeys(w for w in in_sentence if w[0].isdigit()):  # each sentence once
                self._context_near.setdefault(number, set()).update(in_sentence)
                self._text_near[number] = f"{self._text_near.get(number, '')}\n{sentence.lower()}"
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
        them of (its words other than numbers and measure words; a claim of a bare number is left alone). A word
        is in the sentence when its tokens or its text hold it (jieba cuts "松树高可达55米" and "树高可达55米"
        differently)."""
        words = _positional(claim)
        context = {w for w in words if not w[0].isdigit() and w not in MEASURE_WORDS}
        if not context:
            return []
        return [
            number
            for number in dict.fromkeys(w for w in words if w[0].isdigit())
            if number in self._context_near
            and number not in self.question_numbers
            and not any(_present(w, self._context_near[number], self._text_near[number]) for w in context)
        ]

    def check(self, claim: str) -> LexicalGrounding:
        claim = _normal(claim)
        chinese = CJK_CHAR.search(claim) is not None
        content = [t for t in dict.fromkeys(_content(claim)) if t not in MEASURE_WORDS]
        new = self._new_words(claim, content, chinese)
        present = [
            t
            for t in dict.fromkeys([*content, *new])
            if _present(t, self.source_tokens, self.lowered_sources)
        ]
        found = len(set(new) & set(present))
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
            locality=self._locality(present),
        )

    def _new_words(self, claim: str, content: list[str], chinese: bool) -> list[str]:
        """The claim's content words the question did not give. In Chinese, also read with the question's words
        cut out of the claim before segmenting (jieba may cut the claim across one of them: 切分为 → 切 / 分为,
        the question's 切分); whichever reading leaves fewer."""

        def added(words: list[str]) -> list[str]:
            return [
                t
                for t in dict.fromkeys(words)
                if t not in MEASURE_WORDS and not _present(t, self.given, self.lowered_question)
            ]

        new = added(content)
        if not (chinese and self._given_chinese):
            return new
        rest = claim
        for word in self._given_chinese:
            rest = rest.replace(word, " ")
        cut = added(_content(rest))
        return cut if len(cut) < len(new) else new

    def _locality(self, present: list[str]) -> float:
        """Of the claim's words the sources have (``present``), the largest share one passage holds."""
        if not present:
            return 1.0
        together = (sum(_present(t, p.tokens, p.text) for t in present) for p in self._passages)
        return max(together, default=0) / len(present)


# What the question asks for rather than what it is about: "how many", "what kind of", 多少, 什么时候.
_INTERROGATIVE = re.compile(
    r"\bhow (?:many|much|long|old|far|often)\b|\bwhat (?:type|kind|sort)s? of\b"
    r"|多少|多长时间|多久|多大|什么时候|哪一年|几个|几次|何时|什么",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class QuestionOverlap:
    share: float  # of the question's content words (interrogatives aside), the share the text holds
    adds: bool  # the text has a content word the question has not: it says something beyond restating it


def question_overlap(question: str, text: str) -> QuestionOverlap:
    """How much of the question a text takes up: a sentence that answers a question is about what the question
    names ("How many interceptions did the Panthers get?" → "…the Panthers … leading the NFL in interceptions
    with 24"); a sentence about something else, or the question said back, is not an answer."""
    question, text = (
        _normal(_INTERROGATIVE.sub(" ", question)),
        _normal(_INTERROGATIVE.sub(" ", CITATION_MARKER.sub(" ", text))),
    )
    asked = list(dict.fromkeys(_content(question)))
    tokens, lowered = set(_tokens(text)), text.lower()
    held = sum(_present(t, tokens, lowered) for t in asked)
    given, lowered_question = set(asked), question.lower()
    adds = any(not _present(t, given, lowered_question) for t in _content(text) if t not in MEASURE_WORDS)
    return QuestionOverlap(held / len(asked) if asked else 1.0, adds)


# Picked on XQuAD-en/zh 200 + 200: withholds 13 of the 27 copies served there (3 + 10), one answerable copy
# among them holding the gold answer by chance.
ANSWER_SHARE = 0.5


def reads_as_answer(question: str, text: str) -> bool:
    """A copied sentence is served as the answer only when it is about what the question names (at least half
    of its content words) and says more than the question itself."""
    overlap = question_overlap(question, text)
    return overlap.adds and overlap.share >= ANSWER_SHARE


# The word reading other checks share (:mod:`ragqa.generation.verify.binding`).
content_words, normal_form, positional_words, present, word_tokens = (
    _content,
    _normal,
    _positional,
    _present,
    _tokens,
)


def lexical_grounding(claim: str, sources: str, question: str = "") -> LexicalGrounding:
    return SourceGrounding(sources, question).check(claim)
