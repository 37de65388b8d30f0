"""Claim support checking: supported, contradicted (conflicts with the sources) or unverifiable (not in them).

Signals, each measurable on its own (``signals`` picks them, for ablations):

- ``lexical``: share of the claim's new content words found in the sources, and whether it names numbers or
  names the sources never mention;
- ``embedding``: cosine similarity of the claim (after its question) to the best source sentence;
- ``llm``: a one-word verdict from the generation backend (:mod:`ragqa.generation.verify.judge`);
- ``learned``: P(supported) from the learned cross-encoder (:mod:`ragqa.generation.verify.learned`; English and Chinese).
- ``binding``: P(bound) from the binding verifier (:mod:`ragqa.generation.verify.binding_model`): does what the
  claim adds stand in the sentence that says what the claim is about (English and Chinese)?
- ``kind``: does the answer hold the kind of thing its question asks for (:mod:`ragqa.generation.verify.answer_type`:
  a year for 哪一年, a number for "how many", not a bare date for "who")? Read over the whole answer, not a claim.
- ``reader``: does the answer hold a span the span reader (:mod:`ragqa.generation.verify.reader`) finds answering
  the question in the sources it cites? Read over the whole answer too, and not for a yes-or-no question (its
  answer is no span: on HaluEval records 1200–1599 the reader flagged 28 right "yes"/"no" answers).

Combined, they form a cascade: the cheap signals settle the clear cases (new content fully present → supported;
most of it absent → not supported); only the uncertain middle band costs an LLM call. A claim that is not
supported counts as *contradicted* when it brings a number or name the sources lack while staying on their
topic (the source says Delhi, the claim says Mumbai) or when the judge says so; otherwise *unverifiable*.
Thresholds were picked on HaluEval QA records 0–399 (see the README's hallucination section). The learned
signal can overrule the lexical one both ways: it vetoes a lexically grounded claim it scores very unlikely
(words all present, relation wrong: *contradicted*), and it passes an uncertain-band claim it scores very
likely (a paraphrase); its two thresholds were picked on HaluEval records 1200–1599, which it was not trained on.
The binding signal only vetoes: a lexically grounded claim whose added words stand in sentences about something
else (another span of the same paragraph in the answer's place) is *contradicted*. So does the kind signal, for
every supported claim of an answer none of whose claims says the kind of thing asked ("辽宁队" for 哪一年),
and the reader signal, for an answer that holds none of the spans the reader puts its weight on (another name of
the paragraph in the answer's place).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from ragqa.generation.verify.answer_type import answers_the_kind, asks_yes_or_no
from ragqa.generation.verify.binding_model import shipped_binding
from ragqa.generation.verify.claims import Claim
from ragqa.generation.verify.grounding import LexicalGrounding, SourceGrounding
from ragqa.generation.verify.judge import LLMJudge, Verdict
from ragqa.generation.verify.learned import ClaimScorer, default_verifier
from ragqa.generation.verify.reader import default_reader
from ragqa.generation.verify.similarity import SentenceMatch, SentenceMatcher

Signal = Literal["lexical", "embedding", "llm", "learned", "binding", "kind", "reader"]
# Everything that ships ready to use; "learned" joins when a trained model is there (``cheap_signals``).
ALL_SIGNALS: frozenset[Signal] = frozenset({"lexical", "embedding", "llm"})
# The default: on HaluEval QA (4,000 answers) lexical+embedding reached accuracy 0.853 and adding the packaged
# 1.5B judge in the uncertain band lowered it to 0.793 (it calls too many hallucinations supported); the judge
# stays available for stronger served models.
CHEAP_SIGNALS: frozenset[Signal] = frozenset({"lexical", "embedding"})


def cheap_signals(
    learned: bool, binding: bool = False, kind: bool = False, reader: bool = False
) -> frozenset[Signal]:
    """The signals that run on every answer: word overlap and embeddings, and the learned and binding
    verifiers, the answer-kind check and the span reader if wanted."""
    wanted = {"learned": learned, "binding": binding, "kind": kind, "reader": reader}
    return CHEAP_SIGNALS | frozenset(name for name, on in wanted.items() if on)  # type: ignore[misc]


GROUNDED_COVERAGE = 0.9  # ≥: the claim's new words are in the sources
UNGROUNDED_COVERAGE = 0.5  # <: most of them are not
# ≥: enough of the claim's words stand together in one passage of the sources (a sentence and the next).
# Below, its words are there but strewn over passages about other things — "The national anthem was sung by
# the United Methodist Church" from a source about Lady Gaga and one about the church — so it is not grounded.
# 0.6 on XQuAD-en 200 answers: 8 more held-out answers refused, no answerable one (0.67: 6 answerable lost).
LOCAL_SHARE = 0.6
# Cosine similarity of claim and best source sentence (or pair) per embedder: at or above is "on topic".
# MiniLM: unrelated claims score ~0.2, claims about the source's subject ≥ 0.35. e5 scores are compressed
# (see RELEVANCE_FLOOR in generation/answerer.py); its values are set by analogy, not calibrated on labels.
ON_TOPIC = {"minilm": 0.35, "e5-multilingual": 0.80}
# Embedding-only decision (the ablation row): at or above counts as supported; 0.60 was best on HaluEval 0-399.
SUPPORTIVE = {"minilm": 0.60, "e5-multilingual": 0.88}
# A claim in the uncertain band (nothing missing, part of its words paraphrased) this close to a source sentence
# counts as supported. Only e5 (the Chinese collections' embedder): jieba splits a paraphrase ("被称作" for
# "被理解为") into words the sources lack, so correct Chinese answers land in the band far more often than
# English ones. 0.95 was picked on XQuAD-zh answers (band claims: 6 of 15 in answers holding the gold answer
# pass, 1 of 21 in answers with the paragraph held out) and held on CMRC 2018, not used to pick it (6 of 8 and
# 2 of 31); MiniLM/English keeps the HaluEval-tuned cascade.
CORROBORATING: dict[str, float] = {"e5-multilingual": 0.95}
# The learned verifier's P(supported): below VETO a lexically grounded claim is contradicted; at or above
# PROMOTE an uncertain-band claim (nothing missing) is supported; alone (no lexical signal) 0.5 decides.
LEARNED_VETO = 0.05
LEARNED_PROMOTE = 0.95
# The binding verifier's P(bound): below it a lexically grounded claim is contradicted.
BINDING_VETO = 0.1
# The span reader's weight on the spans an answer holds: below it the answer's supported claims are contradicted.
READER_VETO = 0.05


@dataclass(frozen=True, slots=True)
class ClaimCheck:
    claim: Claim
    verdict: Verdict
    decided_by: str  # which signal settled it: "lexical", "embedding", "llm", "lexical+embedding"
    lexical: LexicalGrounding | None
    match: SentenceMatch | None
    judge: Verdict | None  # the LLM's verdict when it was asked
    learned: float | None = None  # the learned verifier's P(supported), when it scored the claim
    bound: float | None = None  # the binding verifier's P(bound), when it scored the claim

    def to_json(self) -> dict[str, object]:
        return {
            "claim": self.claim.text,
            "citations": list(self.claim.citations),
            "verdict": self.verdict,
            "decided_by": self.decided_by,
            "coverage": round(self.lexical.coverage, 4) if self.lexical else None,
            "locality": round(self.lexical.locality, 4) if self.lexical else None,
            "missing": [
                *self.lexical.missing_numbers,
                *self.lexical.missing_names,
                *self.lexical.misbound_numbers,
            ]
            if self.lexical
            else [],
            "similarity": round(self.match.score, 4) if self.match else None,
            "best_source": self.match.source + 1 if self.match and self.match.source >= 0 else None,
            "best_sentence": self.match.sentence if self.match else "",
            "judge": self.judge,
            "learned": round(self.learned, 4) if self.learned is not None else None,
            "bound": round(self.bound, 4) if self.bound is not None else None,
        }


def is_grounded(lex: LexicalGrounding) -> bool:
    """The claim's new words are in the sources, together, and none of its numbers or names is missing."""
    return lex.coverage >= GROUNDED_COVERAGE and not lex.details_missing and lex.locality >= LOCAL_SHARE


class SupportChecker:
    def __init__(
        self,
        matcher: SentenceMatcher | None,
        judge: LLMJudge | None,
        signals: frozenset[Signal] = CHEAP_SIGNALS,
        *,
        embed_unsettled_only: bool = False,
        learned: ClaimScorer | None = None,
        veto: float = LEARNED_VETO,
        promote: float = LEARNED_PROMOTE,
        binding: ClaimScorer | None = None,
        bind_veto: float = BINDING_VETO,
        reader: ClaimScorer | None = None,
        reader_veto: float = READER_VETO,
    ) -> None:
        if not signals:
            raise ValueError("at least one signal is needed")
        if "embedding" in signals and matcher is None:
            raise ValueError("the embedding signal needs a sentence matcher")
        if "llm" in signals and judge is None:
            raise ValueError("the llm signal needs a judge")
        self.matcher = matcher
        self.judge = judge
        self.signals = signals
        self.learned = (learned or default_verifier()) if "learned" in signals else None
        self.veto, self.promote = veto, promote
        self.binding = (binding or shipped_binding()) if "binding" in signals else None
        self.bind_veto = bind_veto
        self.reader = (reader or default_reader()) if "reader" in signals else None
        self.reader_veto = reader_veto
        # Serving: a claim the lexical signal settles as supported keeps that verdict whatever the embedding
        # says (without the judge), so only the other claims pay for embedding source sentences — and only
        # those of the sources they cite (the lexical signal still reads all of them).
        self.embed_unsettled_only = embed_unsettled_only and "llm" not in signals and "lexical" in signals
        name = matcher.embedder.name if matcher else "minilm"
        self.on_topic = ON_TOPIC.get(name, ON_TOPIC["minilm"])
        self.supportive = SUPPORTIVE.get(name, SUPPORTIVE["minilm"])
        self.corroborating = CORROBORATING.get(name)

    def check(
        self,
        claims: Sequence[Claim],
        sources: Sequence[str],
        question: str = "",
        titles: Sequence[str] = (),
        *,
        whole_answer: bool = True,
    ) -> list[ClaimCheck]:
        """Check each claim against all of ``sources`` (the texts the answer was given, in prompt order);
        ``titles``, the sources' titles the prompt showed, ground words too ("Nikola" of "Nikola_Tesla").
        ``whole_answer``: the claims are all of an answer (the kind signal reads them together); false when
        rechecking some claims of one on their own."""
        if not claims:
            return []
        lexical: list[LexicalGrounding | None] = [None] * len(claims)
        if "lexical" in self.signals:
            grounding = SourceGrounding(sources, question, titles)  # sources tokenized once per answer
            lexical = [grounding.check(c.text) for c in claims]
        grounded = [lex is not None and is_grounded(lex) for lex in lexical]
        matches: list[SentenceMatch | None] = [None] * len(claims)
        if self.matcher is not None:
            wanted = [i for i in range(len(claims)) if not (self.embed_unsettled_only and grounded[i])]
            for group, among in self._match_groups(claims, wanted, len(sources)):
                found = self.matcher.best(
                    [claims[i].text for i in group], [sources[j] for j in among], question
                )
                for i, match in zip(group, found, strict=True):
                    source = among[match.source] if match.source >= 0 else -1
                    matches[i] = SentenceMatch(match.score, source, match.sentence)
        scores: list[float | None] = [None] * len(claims)
        if self.learned is not None:
            scores = self.learned.score_claims([c.text for c in claims], sources, question)
        bound: list[float | None] = [None] * len(claims)
        if self.binding is not None:  # only grounded claims can be vetoed, so only they are scored
            scored = [i for i in range(len(claims)) if grounded[i]]
            found = self.binding.score_claims([claims[i].text for i in scored], sources, question)
            for i, p in zip(scored, found, strict=True):
                bound[i] = p
        checks = [
            self._decide(c, lex, m, p, b, sources, question)
            for c, lex, m, p, b in zip(claims, lexical, matches, scores, bound, strict=True)
        ]
        if "kind" in self.signals and whole_answer and question:
            said = " ".join(c.text for c in claims)
            if not answers_the_kind(question, said):  # true, maybe, but not what was asked
                checks = [
                    replace(c, verdict="contradicted", decided_by=f"{c.decided_by}+kind")
                    if c.verdict == "supported"
                    else c
                    for c in checks
                ]
        if self.reader is not None and whole_answer and question and not asks_yes_or_no(question):
            checks = self._read(checks, sources, question)
        return checks

    def _read(self, checks: list[ClaimCheck], sources: Sequence[str], question: str) -> list[ClaimCheck]:
        """The answer's supported claims are contradicted when the answer holds none of the spans the reader
        finds answering the question in the sources they cite (all sources, when they cite none)."""
        supported = [c for c in checks if c.verdict == "supported"]
        if not supported or self.reader is None:
            return checks
        cited = sorted({n - 1 for c in supported for n in c.claim.citations if 1 <= n <= len(sources)})
        read = [sources[i] for i in cited] or list(sources)
        held = self.reader.score_claims([" ".join(c.claim.text for c in checks)], read, question)[0]
        if held is None or held >= self.reader_veto:
            return checks
        return [
            replace(c, verdict="contradicted", decided_by=f"{c.decided_by}+reader")
            if c.verdict == "supported"
            else c
            for c in checks
        ]

    def _match_groups(
        self, claims: Sequence[Claim], wanted: list[int], n_sources: int
    ) -> list[tuple[list[int], list[int]]]:
        """Which claims to match against which sources: all against all, or — serving — each claim against the
        sources it cites (one embedding pass per citation set; a claim citing nothing valid sees them all)."""
        everything = list(range(n_sources))
        if not self.embed_unsettled_only:
            return [(wanted, everything)] if wanted else []
        groups: dict[tuple[int, ...], list[int]] = {}
        for i in wanted:
            cited = tuple(sorted({n - 1 for n in claims[i].citations if 1 <= n <= n_sources}))
            groups.setdefault(cited or tuple(everything), []).append(i)
        return [(members, list(among)) for among, members in groups.items()]

    def _ask(
        self, claim: Claim, match: SentenceMatch | None, sources: Sequence[str], question: str
    ) -> Verdict | None:
        """The judge reads the claim's cited sources and its best-matching one (all, when neither is known):
        fewer prompt tokens, and the source that matters first."""
        assert self.judge is not None
        keep = [n - 1 for n in claim.citations if 1 <= n <= len(sources)]
        if match is not None and match.source >= 0 and match.source not in keep:
            keep.append(match.source)
        shown = [sources[i] for i in sorted(keep)] or list(sources)
        return self.judge.verdict(claim.text, shown, question)

    def _decide(
        self,
        claim: Claim,
        lex: LexicalGrounding | None,
        match: SentenceMatch | None,
        learned: float | None,
        bound: float | None,
        sources: Sequence[str],
        question: str,
    ) -> ClaimCheck:
        use_embedding = "embedding" in self.signals and match is not None
        on_topic = match is not None and match.score >= self.on_topic

        def done(verdict: Verdict, by: str, judged: Verdict | None = None) -> ClaimCheck:
            return ClaimCheck(claim, verdict, by, lex, match, judged, learned, bound)

        def unsupported(by: str) -> ClaimCheck:
            conflicting = lex is not None and lex.details_missing and (on_topic or not use_embedding)
            return done("contradicted" if conflicting else "unverifiable", by)

        if lex is None:  # embedding, llm and/or learned only
            if learned is not None and "llm" not in self.signals:
                return done("supported" if learned >= 0.5 else "unverifiable", "learned")
            if "llm" in self.signals:
                judged = self._ask(claim, match, sources, question)
                return done(judged or "unverifiable", "llm", judged)
            assert match is not None
            return done("supported" if match.score >= self.supportive else "unverifiable", "embedding")

        grounded = is_grounded(lex)
        if grounded and learned is not None and learned < self.veto:
            return done("contradicted", "lexical+learned")  # its words are there, their relation is not
        if grounded and bound is not None and bound < self.bind_veto:
            return done("contradicted", "lexical+binding")  # its words are there, said of something else
        if grounded and (not use_embedding or on_topic or "llm" not in self.signals):
            return done("supported", "lexical")
        if lex.coverage < UNGROUNDED_COVERAGE:
            return unsupported("lexical+embedding" if use_embedding else "lexical")
        if "llm" in self.signals:  # the uncertain band
            judged = self._ask(claim, match, sources, question)
            if judged is not None:
                return done(judged, "llm", judged)
        if grounded:
            return done("supported", "lexical")
        if learned is not None and learned >= self.promote and not lex.details_missing:
            return done("supported", "lexical+learned")
        corroborated = (
            use_embedding
            and self.corroborating is not None
            and match is not None
            and match.score >= self.corroborating
            and not lex.details_missing
        )
        return done("supported", "lexical+embedding") if corroborated else unsupported("lexical")
