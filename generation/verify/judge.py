"""LLM judge: the generation backend asked for a one-word verdict on one claim against its sources.

Greedy, four tokens at most, sources first so that llama.cpp's prompt cache reuses them across the claims
of one answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from ragqa.generation.backend import GenerationBackend, Message
from ragqa.generation.sampling import SamplingParams

Verdict = Literal["supported", "contradicted", "unverifiable"]

_SYSTEM = (
    "You check whether an answer is backed by source text. Reply with exactly one word:\n"
    "SUPPORTED - the source states it;\n"
    "CONTRADICTED - the source says something different;\n"
    "UNVERIFIABLE - the source does not say."
)
_WORD = re.compile(r"SUPPORT|CONTRADICT|UNVERIFI|NOT SUPPORT|UNSUPPORT", re.IGNORECASE)
_PARAMS = SamplingParams(temperature=0.0, top_k=1, max_tokens=4, seed=0, repetition_penalty=1.0)


def parse_verdict(text: str) -> Verdict | None:
    m = _WORD.search(text)
    if not m:
        return None
    word = m.group(0).upper()
    if word.startswith("SUPPORT"):
        return "supported"
    if word.startswith("CONTRADICT"):
        return "contradicted"
    return "unverifiable"


class LLMJudge:
    def __init__(self, backend: GenerationBackend) -> None:
        self.backend = backend
        self.calls = 0

    def messages(self, claim: str, sources: Sequence[str], question: str = "") -> list[Message]:
        numbered = "\n".join(f"[{i}] {s}" for i, s in enumerate(sources, start=1))
        asked = f"Question: {question}\n" if question else ""
        return [
            Message("system", _SYSTEM),
            Message(
                "user",
                f"Source:\n{numbered}\n\n{asked}Answer: {claim}\n\n"
                "Is the answer SUPPORTED, CONTRADICTED or UNVERIFIABLE given only the source?",
            ),
        ]

    def verdict(self, claim: str, sources: Sequence[str], question: str = "") -> Verdict | None:
        """``None`` when the model's reply names no verdict."""
        self.calls += 1
        reply = self.backend.generate(self.messages(claim, sources, question), _PARAMS).text
        return parse_verdict(reply)
