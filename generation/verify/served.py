"""Verification in the serving path: every claim of an answer checked against the sources the model was given,
before the answer leaves, with the eval's own checker.

``drop`` removes each answer sentence that holds an unsupported claim (a clause cannot be cut out of its
sentence without leaving a broken one), and what those leave behind: bare list numbers and citation pieces, an
introduction ending in a colon whose list is gone; ``strict`` refuses when any claim is unsupported; both refuse with
``unsupported`` when nothing supported is left.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from ragqa.cjk import CJK_CHAR
from ragqa.generation.verify.checker import ClaimCheck, SupportChecker, cheap_signals
from ragqa.generation.verify.claims import split_claims
from ragqa.generation.verify.judge import Verdict
from ragqa.generation.verify.similarity import SentenceMatcher
from ragqa.retrieval.embedders import Embedder
from ragqa.sentences import split_sentences
from ragqa.types import Hit, VerifyMode


@dataclass(frozen=True, slots=True)
class Evidence:
    """The source sentence that best matches a claim: source number, text, character span in its document."""

    n: int
    text: str
    span: tuple[int, int]

    def to_json(self) -> dict[str, Any]:
        return {"n": self.n, "text": self.text, "span": list(self.span)}


@dataclass(frozen=True, slots=True)
class ServedClaim:
    text: str
    verdict: Verdict
    citations: tuple[int, ...]
    evidence: Evidence | None

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "verdict": self.verdict,
            "citations": list(self.citations),
            "evidence": self.evidence.to_json() if self.evidence else None,
        }


@dataclass(slots=True)
class Verification:
    mode: VerifyMode
    claims: list[ServedClaim] = field(default_factory=list)
    removed: int = 0  # claims taken out of the answer (``drop``), or all unsupported ones (a refusal)

    @property
    def supported(self) -> int:
        return sum(c.verdict == "supported" for c in self.claims)

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "claims": len(self.claims),
            "supported": self.supported,
            "removed": self.removed,
        }


# Why verification refuses: claims the sources do not support, or supported claims that do not say what the
# question asks for (the kind check: no year for 哪一年)
VerifiedRefusal = Literal["unsupported", "not_an_answer"]
RETRYABLE: frozenset[VerifiedRefusal] = frozenset(get_args(VerifiedRefusal))  # the second ask follows each


@dataclass(frozen=True, slots=True)
class Verified:
    text: str  # the answer as served
    verification: Verification
    refuse: bool  # nothing supported is left (``drop``), or something is unsupported (``strict``)
    reason: VerifiedRefusal = "unsupported"  # why, when ``refuse``


def _reason(unsupported: Sequence[ClaimCheck]) -> VerifiedRefusal:
    """``not_an_answer`` when every claim held against the answer was held for its kind alone."""
    return "not_an_answer" if all(c.decided_by.endswith("+kind") for c in unsupported) else "unsupported"


_TERMS = re.compile(r"[^\W_]+", re.UNICODE)
# "1.", "2.3.", "[1": list numbers and citation pieces, what dropped claims leave behind
_REMNANT = re.compile(r"\s*(?:\d{1,2}[.)、]\s*|\[\d*\]?\s*)*")


def _is_remnant(sentence: str) -> bool:
    """What is left of a list or a citation once its claims are gone (an answer "1887 [1]." is not)."""
    return bool(_REMNANT.fullmatch(sentence))


def _terms(text: str) -> set[str]:
    """Words, and each CJK character's pair with the next, lower-cased: enough to rank sentences by overlap."""
    words = {w.casefold() for w in _TERMS.findall(text)}
    cjk = "".join(CJK_CHAR.findall(text))
    return words | {cjk[i : i + 2] for i in range(len(cjk) - 1)}


def _sentence_terms(sources: Sequence[Hit]) -> list[tuple[int, str, set[str]]]:
    """(source index, sentence, its terms) of every source sentence, computed once per answer."""
    return [
        (n, hit.text[a:b], _terms(hit.text[a:b]))
        for n, hit in enumerate(sources)
        for a, b in split_sentences(hit.text)
    ]


def _overlap_match(claim: str, sentences: Sequence[tuple[int, str, set[str]]]) -> tuple[int, str] | None:
    """The source sentence sharing most terms with the claim (for claims the lexical signal settled)."""
    wanted = _terms(claim)
    best: tuple[int, int, str] | None = None
    for n, sentence, terms in sentences:
        shared = len(wanted & terms)
        if shared and (best is None or shared > best[0]):
            best = (shared, n, sentence)
    return (best[1], best[2]) if best else None


def _evidence(
    check: ClaimCheck, sources: Sequence[Hit], sentences: Callable[[], list[tuple[int, str, set[str]]]]
) -> Evidence | None:
    match = check.match
    if match is not None and 0 <= match.source < len(sources):
        found: tuple[int, str] | None = (match.source, match.sentence)
    else:
        found = _overlap_match(check.claim.text, sentences())
    if found is None:
        return None
    index, sentence = found
    hit = sources[index]
    at = hit.text.find(sentence)
    start = hit.span[0] + max(at, 0)
    end = start + len(sentence) if at >= 0 else hit.span[1]
    return Evidence(index + 1, sentence, (start, end))


class AnswerVerifier:
    """Checks an answer's claims with the collection's embedder (lexical grounding + best source sentence)."""

    def __init__(
        self,
        embedder: Embedder,
        *,
        learned: bool = False,
        binding: bool = False,
        kind: bool = False,
        reader: bool = False,
    ) -> None:
        self.checker = SupportChecker(
            SentenceMatcher(embedder),
            None,
            cheap_signals(learned, binding, kind, reader),
            embed_unsettled_only=True,
        )

    def verify(self, question: str, answer: str, sources: Sequence[Hit], mode: VerifyMode) -> Verified:
        claims = split_claims(answer)
        checks = self.checker.check(claims, [h.text for h in sources], question, [h.title for h in sources])
        sentences = functools.cache(lambda: _sentence_terms(sources))  # only if a claim needs them
        served = [
            ServedClaim(c.claim.text, c.verdict, c.claim.citations, _evidence(c, sources, sentences))
            for c in checks
        ]
        verification = Verification(mode, served)
        unsupported = [c for c in checks if c.verdict != "supported"]
        if mode == "annotate" or not unsupported:
            return Verified(answer, verification, refuse=False)
        if mode == "strict":
            verification.removed = len(unsupported)
            return Verified(answer, verification, refuse=True, reason=_reason(unsupported))
        bad_sentences = {c.claim.sentence for c in unsupported}
        spans = split_sentences(answer)
        kept = [
            i for i, (a, b) in enumerate(spans) if i not in bad_sentences and not _is_remnant(answer[a:b])
        ]
        while kept and answer[slice(*spans[kept[-1]])].rstrip().endswith((":", "：")):
            kept.pop()  # an introduction whose list was removed ("… in these ways:")
        verification.removed = sum(c.claim.sentence not in kept for c in checks)
        if verification.removed == len(checks):
            return Verified(answer, verification, refuse=True, reason=_reason(unsupported))
        joiner = "" if CJK_CHAR.search(answer) else " "  # Chinese sentences follow each other without a space
        text = joiner.join(answer[slice(*spans[i])].strip() for i in kept)
        return Verified(text, verification, refuse=False)
