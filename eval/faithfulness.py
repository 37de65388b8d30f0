"""Per-answer hallucination metrics from claim verdicts, refusals scored explicitly (never NaN)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ragqa.generation.verify.checker import ClaimCheck, SupportChecker
from ragqa.generation.verify.claims import split_claims


@dataclass(slots=True)
class AnswerCheck:
    refused: bool
    claims: list[ClaimCheck] = field(default_factory=list)
    cited_supported: list[bool] = field(
        default_factory=list
    )  # per cited claim: do its cited sources back it?

    def _share(self, verdict: str) -> float:
        return sum(c.verdict == verdict for c in self.claims) / len(self.claims) if self.claims else 0.0

    @property
    def faithfulness(self) -> float:
        """Supported claims / claims. An answer that asserts nothing (a refusal) is faithful: 1.0."""
        return self._share("supported") if self.claims else 1.0

    @property
    def contradicted(self) -> float:
        return self._share("contradicted")

    @property
    def unverifiable(self) -> float:
        return self._share("unverifiable")

    @property
    def hallucinated(self) -> bool:
        return any(c.verdict != "supported" for c in self.claims)

    @property
    def citation_precision(self) -> float | None:
        """Cited claims whose cited sources support them; ``None`` when nothing was cited."""
        return sum(self.cited_supported) / len(self.cited_supported) if self.cited_supported else None

    @property
    def citation_recall(self) -> float | None:
        """Supported claims that carry a citation; ``None`` when no claim is supported."""
        supported = [c for c in self.claims if c.verdict == "supported"]
        return sum(bool(c.claim.citations) for c in supported) / len(supported) if supported else None

    def metrics(self) -> dict[str, Any]:
        return {
            "refused": self.refused,
            "claims": len(self.claims),
            "faithfulness": round(self.faithfulness, 4),
            "contradicted": round(self.contradicted, 4),
            "unverifiable": round(self.unverifiable, 4),
            "hallucinated": self.hallucinated,
            "citation_precision": self.citation_precision,
            "citation_recall": self.citation_recall,
        }


def check_answer(
    checker: SupportChecker,
    answer: str,
    sources: Sequence[str],
    *,
    question: str = "",
    refused: bool = False,
    titles: Sequence[str] = (),
) -> AnswerCheck:
    """Split ``answer`` into claims and check each against ``sources`` (``[n]`` = ``sources[n-1]``; their
    ``titles`` as the prompt showed them)."""
    if refused:
        return AnswerCheck(refused=True)
    claims = split_claims(answer)
    checks = checker.check(claims, sources, question, titles)
    cited_supported: list[bool] = []
    for check in checks:
        if not check.claim.citations:
            continue
        cited = [sources[n - 1] for n in check.claim.citations if 1 <= n <= len(sources)]
        if not cited:
            cited_supported.append(False)
        elif (
            check.verdict == "supported"
            and check.match is not None
            and check.match.source + 1 in check.claim.citations
        ):
            cited_supported.append(True)  # the best-matching sentence is in a cited source
        else:
            cited_titles = [titles[n - 1] for n in check.claim.citations if 1 <= n <= len(titles)]
            (own,) = checker.check([check.claim], cited, question, cited_titles, whole_answer=False)
            cited_supported.append(own.verdict == "supported")
    return AnswerCheck(refused=False, claims=checks, cited_supported=cited_supported)
