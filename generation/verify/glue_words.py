"""Glue words: the common Chinese verbs, adverbs, pronouns, prepositions and particles a paraphrase adds.

"ragqa 使用结巴分词…" restates "ragqa 用结巴分词…": 使用 is in the sources, but in another sentence, so read as a detail
the claim moved, the binding verifier vetoed a right answer. Words like 使用, 进行, 通过, 已经, 他们 carry no detail that
can be misplaced; names, nouns, numbers and time words do. The list is read from the dictionary of jieba (a
declared dependency, MIT): its words tagged as a verb, adverb, pronoun, preposition, conjunction, locative,
particle or interjection that occur at least :data:`COMMON` times in jieba's corpus (741 words), but
not a negation (不, 没有, 未…: "X 不属于 Y" for "X 属于 Y" moves no word yet says the opposite). English
needs no list: its function words are already dropped from the claim's words (:mod:`.grounding`).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

COMMON = 5000  # jieba's corpus frequency from which a word is common
# jieba's part-of-speech tags of words that glue a sentence rather than name something
GLUE_TAGS = frozenset("v vd vg d df ad p c r rz f u uj ul uv ud uz ug y k h l".split())  # noqa: SIM905
NEGATORS = ("不", "没", "未", "非", "无", "别")  # a word opening with one negates: a detail, never glue


@cache
def glue_words() -> frozenset[str]:
    words: set[str] = set()
    with resources.files("jieba").joinpath("dict.txt").open(encoding="utf-8") as lines:
        for line in lines:
            word, freq, tag = line.split()
            if tag in GLUE_TAGS and int(freq) >= COMMON and not word.startswith(NEGATORS):
                words.add(word)
    return frozenset(words)
