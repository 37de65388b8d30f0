"""Binding: does what the claim adds stand in the sentence that says what the claim is about?

An intrinsic error reuses the sources' own words: "The Panthers defense gave up 88 points" where 88 counts
tackles two sentences later, or a bare "88" for "How many points did the Panthers surrender?". Every word is in
the sources, so word coverage passes it; but the sentence most about the claim and its question (the *anchor*:
Panthers, defense, points) does not hold 88, and the only sentences that do are about something else.

Per claim, the features (:class:`Binding`) compare the anchor with the best sentence holding each word the claim
adds to its question: the largest *deficit* (how much less about the claim that sentence is), for single
sentences, for a sentence with its neighbour, and with the question's words alone; the share of added words the
anchor lacks; and how far apart the claim's consecutive words stand in the anchor (a swap inside one sentence).
A sentence that opens with a pronoun is read with the one before it ("They then beat the Patriots" after "The
Broncos defeated the Steelers"). :mod:`ragqa.generation.verify.binding_model` turns the features into P(bound).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import astuple, dataclass

from ragqa.cjk import CJK_CHAR
from ragqa.generation.verify.chinese_numbers import MEASURE_WORDS
from ragqa.generation.verify.glue_words import glue_words
from ragqa.generation.verify.grounding import (
    content_words,
    normal_form,
    positional_words,
    present,
    word_tokens,
)
from ragqa.sentences import split_sentences


@dataclass(frozen=True, slots=True)
class Binding:
    deficit: float  # anchor's share of the claim+question words minus that of the best sentence holding the
    # added word placed worst (0: every added word is in a sentence as much about the claim as the anchor)
    pair_deficit: float  # the same over sentence pairs
    outside: float  # share of the claim's added words the anchor sentence lacks
    pair_outside: float  # … that the anchor pair lacks
    anchor: float  # the anchor sentence's share of the claim+question words
    asked_deficit: float  # the same with only the question's words saying what the claim is about
    asked_outside: float  # share of the added words the sentence most about the question lacks
    # in the anchor sentence, the largest distance (in words) between two words the claim says one after the
    # other ("Tomas Brandt founded" where the sentence says "Keller founded … Tomas Brandt directed"), and the mean
    gap: float
    spread: float
    # 1 − for the added word placed worst, the share of its companions (the question's words and its neighbours
    # in the claim) that its sentence holds which stand within a few words of it there
    remote: float
    added: int  # how many words the claim adds to its question (found in the sources)

    def features(self) -> tuple[float, ...]:
        return astuple(self)


NO_BINDING = Binding(0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0)
BARE = 3  # a claim of this many content words or fewer is a bare answer
NEAR = 3  # words either side that stand "near" a word (content words and numbers, in order)


# A sentence that opens with one of these is about what the sentence before it named ("The Broncos defeated the
# Steelers. They then beat the Patriots…"): it is read together with that sentence.
_PRONOUN_OPENING = re.compile(
    r"^\W*(?:(?:he|she|it|they|his|her|its|their|this|these|those|there)\b|他们|她们|它们|他|她|它|其|该|此)",
    re.IGNORECASE,
)


def _resolved(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sentence spans, each that opens with a pronoun widened to start where the sentence before it starts."""
    out: list[tuple[int, int]] = []
    for i, (a, b) in enumerate(spans):
        opens_with_pronoun = i > 0 and _PRONOUN_OPENING.match(text[a:b]) is not None
        out.append((spans[i - 1][0], b) if opens_with_pronoun else (a, b))
    return out


@dataclass(frozen=True, slots=True)
class _Unit:
    tokens: frozenset[str]
    text: str  # lowered, for Chinese words found as written


class SourceSentences:
    """The sources cut into sentences and sentence pairs, tokenized once for all claims of an answer."""

    def __init__(self, sources: Sequence[str], question: str = "") -> None:
        self.sentences: list[_Unit] = []
        self.pairs: list[_Unit] = []
        self.words: list[list[str]] = []  # each sentence's content words and numbers, in order
        self.copies: set[tuple[str, ...]] = set()  # the same for each sentence as written (no pronoun merged)
        for source in sources:
            text = normal_form(source)
            cut = split_sentences(text)
            self.copies.update(tuple(positional_words(text[a:b])) for a, b in cut)
            spans = _resolved(text, cut)
            units = [_Unit(frozenset(word_tokens(text[a:b])), text[a:b].lower()) for a, b in spans]
            self.sentences += units
            self.words += [positional_words(text[a:b]) for a, b in spans]
            self.pairs += [
                _Unit(x.tokens | y.tokens, f"{x.text} {y.text}") for x, y in itertools.pairwise(units)
            ] or units
        asked = normal_form(question)
        self.asked = [t for t in dict.fromkeys(content_words(asked)) if t not in MEASURE_WORDS]
        self.question = asked.lower()  # Chinese cut otherwise in the claim: 切分 vs 切 + 分为

    def bind(self, claim: str) -> Binding:
        said = [t for t in dict.fromkeys(content_words(normal_form(claim))) if t not in MEASURE_WORDS]
        asked = set(self.asked)
        context = list(dict.fromkeys([*self.asked, *said]))
        glue = glue_words()
        added = [
            t
            for t in said
            if t not in asked
            and t not in glue
            and not (CJK_CHAR.match(t) and t in self.question)  # a piece of a question word
            and any(present(t, u.tokens, u.text) for u in self.sentences)
        ]
        if not added or not context or not self.sentences:
            return NO_BINDING
        deficit, outside, anchor = _deficit(self.sentences, context, added)
        pair_deficit, pair_outside, _ = _deficit(self.pairs, context, added)
        asked_deficit, asked_outside = 0.0, 0.0
        if self.asked:
            asked_deficit, asked_outside, _ = _deficit(self.sentences, self.asked, added)
        gap, spread = self._gaps(said, context)
        remote = 1.0 - min(self._near(t, said, asked) for t in added)
        return Binding(
            deficit,
            pair_deficit,
            outside,
            pair_outside,
            anchor,
            asked_deficit,
            asked_outside,
            gap,
            spread,
            remote,
            len(added),
        )

    def copies_a_sentence(self, claim: str) -> bool:
        """The claim says one source sentence's words in that sentence's order (a copied sentence or heading):
        nothing in it can stand elsewhere than the sources put it. Not a feature: the trainer's right whole
        sentences are copies, and the model learns from them what a bound sentence-long claim looks like."""
        words = tuple(positional_words(normal_form(claim)))
        return bool(words) and words in self.copies

    def _gaps(self, said: list[str], context: list[str]) -> tuple[float, float]:
        """Walk the claim's words through the anchor sentence (the one holding most of ``context``; the first
        such), each at its occurrence nearest the previous word's: (largest step, mean step)."""
        shares = [len(set(words).intersection(context)) for words in self.words]
        words = self.words[max(range(len(shares)), key=shares.__getitem__)]
        where: dict[str, list[int]] = {}
        for i, w in enumerate(words):
            where.setdefault(w, []).append(i)
        steps: list[int] = []
        last: int | None = None
        for w in said:
            if w not in where:
                continue
            at = where[w][0] if last is None else min(where[w], key=lambda i: abs(i - last))
            if last is not None:
                steps.append(abs(at - last))
            last = at
        return (float(max(steps)), sum(steps) / len(steps)) if steps else (0.0, 0.0)

    def _near(self, word: str, said: list[str], asked: set[str]) -> float:
        """Of ``word``'s companions that a sentence holding it holds too, the largest share standing within NEAR
        words of it (1.0 when no sentence holds any). Its companions are its neighbours in the claim; a bare
        answer (BARE content words or fewer) has the question's words as well."""
        at = said.index(word)
        companions = set(said[max(0, at - NEAR) : at + NEAR + 1]) - {word}
        if len(said) <= BARE:
            companions |= asked
        best, seen = 0.0, False
        for words in self.words:
            where = [i for i, w in enumerate(words) if w == word]
            held = companions.intersection(words)
            if not where or not held:
                continue
            seen = True
            near = {w for i in where for w in words[max(0, i - NEAR) : i + NEAR + 1]}
            best = max(best, len(held & near) / len(held))
        return best if seen else 1.0


def _deficit(units: Sequence[_Unit], context: list[str], added: list[str]) -> tuple[float, float, float]:
    """(largest deficit, share of ``added`` outside the anchor, the anchor's share of ``context``)."""
    share = [sum(present(t, u.tokens, u.text) for t in context) / len(context) for u in units]
    top = max(share)
    worst = 0.0
    for t in added:
        holding = [s for u, s in zip(units, share, strict=True) if present(t, u.tokens, u.text)]
        worst = max(worst, top - max(holding, default=0.0))
    lacking = min(
        sum(not present(t, u.tokens, u.text) for t in added)
        for u, s in zip(units, share, strict=True)
        if s == top
    )
    return worst, lacking / len(added), top
