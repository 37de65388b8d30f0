"""Labelled (question, claim, sources) examples for the learned claim verifier, made reproducibly from the shared
data sets.

- HaluEval QA: each record's right answer (supported) and hallucinated answer (not), against its knowledge.
- SQuAD-format sets (XQuAD): per question, the gold answer (supported) against its paragraph; an *intrinsic*
  error — another answer span or a number or name taken from the same paragraph — and an *extrinsic* one, from
  another article (not supported); and the same at sentence level: the gold answer's sentence itself
  (supported), that sentence with its answer swapped for another span of the paragraph, or negated (not; in
  English by "not" after the first auxiliary, in Chinese by 不/没有/未 before the copula or first verb).
- Claims worded as answers are, on both sides: the question rewritten as a statement of the gold answer
  (*statement*: "Who founded X?" → "Maria Keller founded X.") and of the swapped span (*statement-intrinsic*),
  and the clause of the gold sentence that holds the answer (*clause*) with the swap in it (*clause-intrinsic*).
  Without them every true sentence the model saw was a verbatim source sentence and every edited one false, so
  a model trained on them scored any reworded claim unsupported (0.03 for "Maria Keller founded the Lindqvist
  Observatory." against its source) — and still scored HaluEval well, whose hallucinated answers are reworded.

Which records and articles are used is the caller's choice (``ragqa train verifier`` keeps HaluEval records
1600–1999 and the XQuAD articles of the QA eval's first 200 questions out of training).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from ragqa.cjk import CJK_CHAR
from ragqa.errors import InputError
from ragqa.eval.halueval import HaluRecord
from ragqa.sentences import split_sentences

Kind = str  # "halueval", "gold", "intrinsic", "extrinsic", "sentence", "sentence-intrinsic", "negation",
# "statement", "statement-intrinsic", "clause", "clause-intrinsic"


@dataclass(frozen=True, slots=True)
class Example:
    question: str
    claim: str
    sources: tuple[str, ...]
    supported: bool
    kind: Kind

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def halueval_examples(records: Iterable[HaluRecord], seed: int) -> list[Example]:
    """Each record's right answer (supported) and hallucinated answer (not), against its knowledge; and, where
    the right answer is a span of the knowledge, the SQuAD-style examples of :func:`squad_examples` made from
    it. HaluEval alone teaches a shortcut: its right answers are short spans and its hallucinated ones full
    sentences. The knowledge's own sentence holding the right answer (supported) and that sentence with the
    answer swapped or negated (not) are sentences on both sides, so only reading the evidence separates them."""
    records = list(records)
    out: list[Example] = []
    for r in records:
        out.append(Example(r.question, r.right_answer, (r.knowledge,), True, "halueval"))
        out.append(Example(r.question, r.hallucinated_answer, (r.knowledge,), False, "halueval"))
    spans = [
        _Question(r.index, r.knowledge, r.question, r.right_answer, r.knowledge.find(r.right_answer))
        for r in records
        if len(r.right_answer) > 2 and r.right_answer in r.knowledge
    ]
    return out + _examples(spans, None, random.Random(seed))


@dataclass(frozen=True, slots=True)
class _Question:
    article: int
    context: str
    question: str
    answer: str
    start: int


def _squad_questions(path: Path) -> list[_Question]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(f"{path} is not SQuAD-format JSON ({exc})") from exc
    out: list[_Question] = []
    for a, article in enumerate(data):
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                answers = qa.get("answers") or []
                if not answers or not str(qa.get("question", "")).strip():
                    continue
                text, start = answers[0]["text"], int(answers[0]["answer_start"])
                if context[start : start + len(text)] != text:
                    found = context.find(text)
                    if found < 0:
                        continue
                    start = found
                out.append(_Question(a, context, qa["question"], text, start))
    return out


_NUMBER = re.compile(r"\b\d[\d,.]*\b")
_NAME = re.compile(r"(?<=\s)[A-Z][\w'-]+(?:\s+(?:of\s+)?[A-Z][\w'-]+)*")
_AUXILIARY = re.compile(r"\b(is|are|was|were|has|have|had|did|does|can|could|will|would)\b")


def _is_number(text: str) -> bool:
    return bool(_NUMBER.fullmatch(text.strip()))


def _candidates(context: str, answers: Sequence[str]) -> list[str]:
    """Spans of the paragraph that could stand in for an answer: its other answers, numbers and names."""
    spans = [*answers, *_NUMBER.findall(context), *_NAME.findall(context)]
    seen: dict[str, None] = {}
    for s in spans:
        s = s.strip(" ,.")
        if s and len(s) <= 60:
            seen.setdefault(s, None)
    return list(seen)


def _swap_for(answer: str, candidates: Sequence[str], rng: random.Random) -> str | None:
    """Another span of the same kind (a number for a number), sharing no word with the answer."""
    words = {w.casefold() for w in answer.split()}
    same_kind = [
        c
        for c in candidates
        if _is_number(c) == _is_number(answer)
        and c.casefold() != answer.casefold()
        and not words & {w.casefold() for w in c.split()}
    ]
    return rng.choice(same_kind) if same_kind else None


def _sentence_of(context: str, start: int) -> tuple[int, int] | None:
    for a, b in split_sentences(context):
        if a <= start < b:
            return a, b
    return None


def _negated(sentence: str) -> str | None:
    match = _AUXILIARY.search(sentence)
    if match is None or re.match(r"\s+(not|never|no)\b", sentence[match.end() :]):
        return None
    return f"{sentence[: match.end()]} not{sentence[match.end() :]}"


_CHINESE_NOT = ("不", "没", "未", "无", "非", "别")
_ALREADY = ("已经", "已")


def _negated_chinese(sentence: str) -> str | None:
    """The sentence with its copula or first verb of two or more characters negated: 是 → 不是, 为 → 不为,
    已经加入了 → 未加入, 加入了 → 没有加入, 认可 → 不认可 (jieba's part-of-speech tags; one-character verbs are
    too often misread)."""
    import jieba.posseg

    words = [(w.word, w.flag) for w in jieba.posseg.cut(sentence)]
    negated = [i > 0 and words[i - 1][0].endswith(_CHINESE_NOT) for i in range(len(words))]
    verbs = [
        i
        for i, (word, flag) in enumerate(words)
        if flag.startswith("v") and not negated[i] and not word.startswith(_CHINESE_NOT)
    ]
    copula = [i for i in verbs if words[i][0] in ("是", "为")]
    chosen = copula or [i for i in verbs if len(words[i][0]) >= 2]
    if not chosen:
        return None
    i = chosen[0]
    before, verb, after = [w for w, _ in words[:i]], words[i][0], [w for w, _ in words[i + 1 :]]
    done = verb.endswith("了") or (bool(after) and after[0] == "了")
    if before and before[-1] in _ALREADY:
        before[-1], verb = "未", verb.removesuffix("了")
    elif done:
        verb = "没有" + verb.removesuffix("了")
    else:
        verb = "不" + verb
    if done and after and after[0] == "了":
        after = after[1:]
    return "".join([*before, verb, *after])


def _negated_any(sentence: str) -> str | None:
    return _negated_chinese(sentence) if CJK_CHAR.search(sentence) else _negated(sentence)


# Question words that a declarative puts the answer in place of. Chinese asks in situ (谁创建了天文台？ →
# 王丽华创建了天文台。); English only where the question word is the subject (Who founded …? / What is …?).
_ZH_ASKING = (
    "什么时候",
    "哪一年",
    "哪一位",
    "多少",
    "哪个",
    "哪些",
    "哪里",
    "哪位",
    "哪年",
    "什么",
    "何时",
    "谁",
    "几",
)
_EN_ASKING = re.compile(r"^(?:Who\s+(?!(?:did|does|do)\b)(?=[a-z])|What\s+(?=(?:is|was|are|were)\b))")
_ZH_NOT_ASKING = (
    "为什么",
    "怎么",
    "如何",
    "怎样",
)  # why / how: the answer is an explanation, not a word in place
_STATED = {"en": 6, "zh": 20}  # the longest answer put into a statement: words / characters


def _statement(question: str, answer: str) -> str | None:
    """The question turned into a statement of ``answer``, as an answer sentence would say it, or None where no
    simple rewrite exists ("Who founded the observatory?" + "Maria Keller" → "Maria Keller founded the
    observatory."; "天文台是谁创建的？" + "王丽华" → "天文台是王丽华创建的。")."""
    q = question.strip().rstrip("?？ ")
    if CJK_CHAR.search(q):
        if len(answer) > _STATED["zh"] or any(w in q for w in _ZH_NOT_ASKING):
            return None
        for word in _ZH_ASKING:
            at = q.find(word)
            if at >= 0:
                rest = q[at + len(word) :]
                if rest and answer.endswith(rest[0]):  # 几次 + "3次" → 3次, not 3次次
                    rest = rest[1:]
                return f"{q[:at]}{answer}{rest}。"
        return None
    match = _EN_ASKING.match(q)
    return f"{answer} {q[match.end() :]}." if match and len(answer.split()) <= _STATED["en"] else None


_CLAUSE_BREAK = re.compile(r"[,;，；:：]")
_MIN_CLAUSE = {"en": 4, "zh": 6}  # words / characters, the answer's included


def _clause(sentence: str, at: int, length: int) -> str | None:
    """The clause of ``sentence`` holding its answer at ``at`` (between the nearest commas, semicolons or colons), when
    it is not the whole sentence and says more than the answer: a claim that is true but not copied whole."""
    breaks = [m.start() for m in _CLAUSE_BREAK.finditer(sentence)]
    start = max((b + 1 for b in breaks if b < at), default=0)
    end = min((b for b in breaks if b >= at + length), default=len(sentence))
    clause = sentence[start:end].strip(" .。")
    if clause == sentence.strip(" .。") or not clause:
        return None
    zh = bool(CJK_CHAR.search(clause))
    size = len(clause) if zh else len(clause.split())
    return (
        clause
        if size >= _MIN_CLAUSE["zh" if zh else "en"] and len(clause) > len(sentence[at : at + length]) + 2
        else None
    )


def squad_examples(path: Path, articles: set[int] | None, seed: int) -> list[Example]:
    """Examples from a SQuAD-format file's questions in ``articles`` (all when None)."""
    return _examples(_squad_questions(path), articles, random.Random(seed))


def _examples(questions: Sequence[_Question], articles: set[int] | None, rng: random.Random) -> list[Example]:
    by_paragraph: dict[str, list[str]] = {}
    for q in questions:
        by_paragraph.setdefault(q.context, []).append(q.answer)
    out: list[Example] = []
    for q in questions:
        if articles is not None and q.article not in articles:
            continue
        sources = (q.context,)
        out.append(Example(q.question, q.answer, sources, True, "gold"))
        candidates = _candidates(q.context, by_paragraph[q.context])
        swap = _swap_for(q.answer, candidates, rng)
        if swap:
            out.append(Example(q.question, swap, sources, False, "intrinsic"))
        statement = _statement(q.question, q.answer)
        if statement and swap:  # the answer said in a sentence of its own, and the same with the swap
            out.append(Example(q.question, statement, sources, True, "statement"))
            wrong = _statement(q.question, swap)
            if wrong:
                out.append(Example(q.question, wrong, sources, False, "statement-intrinsic"))
        elsewhere = [
            o for o in questions if o.article != q.article and _is_number(o.answer) == _is_number(q.answer)
        ]
        if elsewhere:
            out.append(Example(q.question, rng.choice(elsewhere).answer, sources, False, "extrinsic"))
        span = _sentence_of(q.context, q.start)
        if span is None:
            continue
        a, b = span
        sentence = q.context[a:b].strip()
        out.append(Example(q.question, sentence, sources, True, "sentence"))
        local = q.start - a - (len(q.context[a:b]) - len(q.context[a:b].lstrip()))
        if swap and sentence[local : local + len(q.answer)] == q.answer:
            changed = sentence[:local] + swap + sentence[local + len(q.answer) :]
            out.append(Example(q.question, changed, sources, False, "sentence-intrinsic"))
            clause = _clause(sentence, local, len(q.answer))
            if clause:  # part of the sentence (true, not a copy of a whole one), and the same with the swap
                out.append(Example(q.question, clause, sources, True, "clause"))
                out.append(
                    Example(q.question, clause.replace(q.answer, swap, 1), sources, False, "clause-intrinsic")
                )
        negated = _negated_any(sentence)
        if negated:
            out.append(Example(q.question, negated, sources, False, "negation"))
    return out


def write_examples(examples: Sequence[Example], path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for e in examples:
            fh.write(json.dumps(e.to_json(), ensure_ascii=False) + "\n")
