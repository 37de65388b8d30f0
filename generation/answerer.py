"""Question → retrieved sources → grounded, cited answer (or an explicit refusal), blocking or streamed.

Refusals come from three places, all visible in the output: the policy (``policy``), retrieval finding
nothing relevant (``no_sources`` / ``low_relevance``, the model is not called), or the model declining
(``model_declined``). When the backend is down the sources still come back with status
``generation_unavailable``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from ragqa.config import Settings
from ragqa.errors import GenerationError, InputError, ModelFileError
from ragqa.generation.backend import GenerationBackend, Usage
from ragqa.generation.citations import CITATION_MARKER, check_citations, citation_json
from ragqa.generation.compress import compress
from ragqa.generation.conversation import Conversation, standalone_question
from ragqa.generation.policy import AnswerPolicy
from ragqa.generation.prompt import PackedPrompt, pack_prompt, refusal_text
from ragqa.generation.sampling import SamplingParams
from ragqa.generation.source_count import close_to_best
from ragqa.generation.verify.grounding import reads_as_answer
from ragqa.generation.verify.served import RETRYABLE, AnswerVerifier, Verification, VerifiedRefusal
from ragqa.retrieval.filters import SearchFilter
from ragqa.retrieval.retriever import Retriever
from ragqa.types import Hit, SearchMode, VerifyMode

# Dense similarity under which no retrieved chunk is taken as relevant, per embedder; calibrated on XQuAD
# (see README "Refusals"): below these, questions had nothing to do with the collection.
RELEVANCE_FLOOR = {"minilm": 0.20, "e5-multilingual": 0.82}

_DECLINE = re.compile(
    r"i\s+(?:do\s*n[o']t|cannot|can[o']?t)\s+(?:know|answer|find)|not\s+(?:mentioned|provided|stated|given)\s+in"
    r"|no\s+information|sources?\s+do(?:es)?\s+not\s+(?:contain|say|mention)|不知道|无法回答|没有(?:提到|提供|相关|说明)|未(?:提及|提到)",
    re.IGNORECASE,
)

_SHORT_DECLINE_CHARS = 60  # "I don't know [1][2]." declines even with citations; a long cited answer does not

_GENERATION_FAILURES = (GenerationError, ModelFileError)


def distinct_hits(hits: list[Hit], k: int) -> list[Hit]:
    """The first ``k`` hits whose text differs (white space and case aside): the same passage ingested twice
    (a file uploaded and also ingested from disk) must not fill two of the model's source slots."""
    seen: set[str] = set()
    kept: list[Hit] = []
    for hit in hits:
        key = " ".join(hit.text.split()).casefold()
        if key not in seen:
            seen.add(key)
            kept.append(hit)
        if len(kept) == k:
            break
    return kept


def _declined(text: str) -> bool:
    return is_declined(text, cited=bool(CITATION_MARKER.search(text)))


def is_declined(text: str, *, cited: bool) -> bool:
    """The model said nothing ("", or only citation markers such as "[2]."), or declined: any uncited decline,
    or a short cited one ("I don't know [1]."); a long cited answer that mentions a gap still answers."""
    content = CITATION_MARKER.sub("", text).strip()
    if not any(ch.isalnum() for ch in content):
        return True
    return bool(_DECLINE.search(content)) and (not cited or len(content) <= _SHORT_DECLINE_CHARS)


Status = Literal["ok", "generation_unavailable", "policy"]
RefusalReason = Literal[
    "policy", "no_sources", "low_relevance", "model_declined", "output_blocked", VerifiedRefusal
]


@dataclass(slots=True)
class Answer:
    question: str
    answer: str
    refused: bool
    refusal_reason: RefusalReason | None
    status: Status
    sources: list[Hit]
    cited: list[int] = field(default_factory=list)
    invalid_citations: int = 0
    uncited_sentences: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    model: str | None = None
    sampling: SamplingParams | None = None
    usage: Usage | None = None
    error: str | None = None
    error_code: str | None = None
    dropped_sources: int = 0
    verification: Verification | None = None  # None: not verified (off, refused, or no answer)
    retrieval_query: str | None = None  # what was searched, when a follow-up was rewritten to stand alone

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "retrieval_query": self.retrieval_query or self.question,
            "answer": self.answer,
            "refused": self.refused,
            "refusal_reason": self.refusal_reason,
            "status": self.status,
            "citations": [citation_json(n, self.sources[n - 1]) for n in self.cited],
            "sources": [{"n": i, **h.to_json()} for i, h in enumerate(self.sources, start=1)],
            "invalid_citations": self.invalid_citations,
            "uncited_sentences": self.uncited_sentences,
            "timings": {k: round(v, 2) for k, v in self.timings_ms.items()},
            "model": self.model,
            "sampling": self.sampling.model_dump() if self.sampling else None,
            "usage": {
                "prompt_tokens": self.usage.prompt_tokens,
                "completion_tokens": self.usage.completion_tokens,
            }
            if self.usage
            else None,
            "error": self.error,
            "error_code": self.error_code,
            "cited": bool(self.cited),  # False: nothing in the answer points at a source
            "claims": [c.to_json() for c in self.verification.claims] if self.verification else [],
            "verification": self.verification.to_json() if self.verification else None,
        }


@dataclass(slots=True)
class AnswerEvent:
    kind: Literal["sources", "token", "done"]
    sources: list[Hit] | None = None
    delta: str = ""
    answer: Answer | None = None


@dataclass(slots=True)
class _Prepared:
    question: str
    hits: list[Hit]
    timings: dict[str, float]
    early: Answer | None = None  # answered without the model (policy, refusal)
    query: str = ""  # the standalone question: searched, and put to the model
    instructions: str | None = None


class Answerer:
    def __init__(
        self,
        settings: Settings,
        retriever: Retriever,
        backend: GenerationBackend | Callable[[], GenerationBackend],
        *,
        policy: AnswerPolicy | None = None,
    ) -> None:
        self.settings = settings
        self.retriever = retriever
        self._backend = backend
        if policy is None and settings.policy_file is not None:
            policy = AnswerPolicy.load(settings.policy_file)
        self.policy = policy
        self._verifier: AnswerVerifier | None = None

    @property
    def verifier(self) -> AnswerVerifier:
        if self._verifier is None:
            self._verifier = AnswerVerifier(
                self.retriever.embedder,
                learned=self.settings.verify_learned,
                binding=self.settings.verify_binding,
                kind=self.settings.verify_answer_kind,
                reader=self.settings.verify_reader,
            )
        return self._verifier

    @property
    def backend(self) -> GenerationBackend:
        if not isinstance(self._backend, GenerationBackend):
            self._backend = self._backend()  # created on first use: a down backend still allows retrieval
        return self._backend

    def relevance_floor(self) -> float:
        if self.settings.refusal_min_score is not None:
            return self.settings.refusal_min_score
        return RELEVANCE_FLOOR.get(self.retriever.embedder.name, 0.0)

    def _standalone(self, question: str, conversation: Conversation, timings: dict[str, float]) -> str:
        t0 = time.perf_counter()
        result = standalone_question(
            question, conversation, lambda messages, params: self.backend.generate(messages, params).text
        )
        if result.how != "as_asked":
            timings["rewrite"] = (time.perf_counter() - t0) * 1000
        return result.query

    def _prepare(
        self,
        question: str,
        k: int | None,
        mode: SearchMode,
        search_filter: SearchFilter | None = None,
        conversation: Conversation | None = None,
    ) -> _Prepared:
        question = question.strip()
        if not question:
            raise InputError("the question is empty")
        if len(question) > self.settings.max_question_chars:
            raise InputError(
                f"the question is {len(question)} characters long; the limit is {self.settings.max_question_chars}"
            )
        timings: dict[str, float] = {}
        if self.policy is not None:
            decision = self.policy.check_question(question)
            if decision is not None:
                refused = decision.kind == "deny"
                early = Answer(question, decision.text, refused, "policy" if refused else None, "policy", [])
                return _Prepared(question, [], timings, early, question)
        conversation = conversation or Conversation()
        query = self._standalone(question, conversation, timings)
        t0 = time.perf_counter()
        wanted = k or self.settings.answer_k
        result = self.retriever.search(  # room for duplicates
            query, mode=mode, k=wanted * 2, search_filter=search_filter
        )
        timings["retrieval"] = (time.perf_counter() - t0) * 1000
        timings.update({f"retrieval_{k}": v for k, v in result.timings_ms.items() if k != "total"})
        hits = close_to_best(
            distinct_hits(result.hits, wanted),
            result.hits,
            min_k=self.settings.answer_min_k,
            falloff=self.settings.answer_falloff,
        )
        prepared = _Prepared(question, hits, timings, None, query, conversation.instructions)
        best_dense = max((h.scores.get("dense") or float("-inf") for h in hits), default=float("-inf"))
        if not hits:
            prepared.early = Answer(question, refusal_text(question), True, "no_sources", "ok", [])
        elif mode != "bm25" and best_dense < self.relevance_floor():
            prepared.early = Answer(question, refusal_text(question), True, "low_relevance", "ok", hits)
        if prepared.early is not None:
            prepared.early.retrieval_query = query
        return prepared

    def _pack(self, prepared: _Prepared, params: SamplingParams, reminder: str = "answer") -> PackedPrompt:
        backend = self.backend
        hits, texts = prepared.hits, None
        if self.settings.compress_context:
            compressed = compress(prepared.query, hits)
            hits, texts = compressed.hits, compressed.texts
        return pack_prompt(
            prepared.query,
            hits,
            texts=texts,
            count_tokens=backend.count_tokens,
            context_window=backend.context_window,
            max_new_tokens=params.max_tokens,
            reminder=reminder,
            instructions=prepared.instructions,
        )

    def _extract(
        self, prepared: _Prepared, params: SamplingParams
    ) -> tuple[PackedPrompt, str, Usage | None] | None:
        """The second ask: copy the sentence of the sources that answers the question. None when the model
        declines again or generation fails (the first outcome then stands)."""
        t0 = time.perf_counter()
        try:
            retry = self._pack(prepared, params, reminder="extract")
            completion = self.backend.generate(retry.messages, params)
        except _GENERATION_FAILURES:
            return None
        finally:
            prepared.timings["retry"] = (time.perf_counter() - t0) * 1000
        if _declined(completion.text):
            return None
        return retry, completion.text, completion.usage

    def _retry_declined(
        self, prepared: _Prepared, packed: PackedPrompt, params: SamplingParams, raw: str, usage: Usage | None
    ) -> tuple[PackedPrompt, str, Usage | None, bool]:
        """After a decline, ask once more to copy the answering sentence (``RAGQA_RETRY_DECLINED``, on by
        default): the 1.5B model declines questions whose answer stands in a source. Verification then checks
        what it copied. Returns the prompt, text and usage to finish with — the retry's when it answered, else
        the first ones — and whether the second ask was made."""
        if not self.settings.retry_declined or not _declined(raw):
            return packed, raw, usage, False
        extracted = self._extract(prepared, params)
        return (*extracted, True) if extracted else (packed, raw, usage, True)

    def _retry_unsupported(
        self, prepared: _Prepared, answer: Answer, params: SamplingParams, verify: VerifyMode, asked: bool
    ) -> Answer:
        """When verification left nothing of the answer (``unsupported``), ask once to copy the answering sentence
        instead (``RAGQA_RETRY_UNSUPPORTED``, on by default): the model often finds the right sentence but
        words its answer wrongly. The copy is verified like any answer, and must read as an answer to the question
        (about what it names, more than the question said back); otherwise the refusal stands."""
        if asked or not self.settings.retry_unsupported or answer.refusal_reason not in RETRYABLE:
            return answer
        extracted = self._extract(prepared, params)
        if extracted is None:
            return answer
        retry, raw, usage = extracted
        copied = self._finish(prepared, retry, raw, params, usage, verify)
        if copied.refused or not reads_as_answer(prepared.query, copied.answer):
            return answer
        return copied

    def _conclude(
        self,
        prepared: _Prepared,
        packed: PackedPrompt,
        params: SamplingParams,
        raw: str,
        usage: Usage | None,
        verify: VerifyMode | None,
    ) -> Answer:
        """From the model's first text to the answer served, for ``answer`` and ``stream`` alike: the second ask
        after a decline, citations, policy and verification, then the second ask after an unsupported answer."""
        packed, raw, usage, asked = self._retry_declined(prepared, packed, params, raw, usage)
        mode = verify or self.settings.verify
        answer = self._finish(prepared, packed, raw, params, usage, mode)
        return self._retry_unsupported(prepared, answer, params, mode, asked)

    def copy_answer(
        self, question: str, sources: list[Hit], params: SamplingParams | None = None
    ) -> tuple[list[Hit], str] | None:
        """The second ask on its own, for evals that verify apart from generation: the sources the model saw
        and its copied answer (citations not yet checked), or None when it declines or fails."""
        prepared = _Prepared(question, list(sources), {}, query=question)
        extracted = self._extract(prepared, params or SamplingParams(seed=0))
        return (extracted[0].sources, extracted[1]) if extracted else None

    def _finish(
        self,
        prepared: _Prepared,
        packed: PackedPrompt,
        raw: str,
        params: SamplingParams,
        usage: Usage | None,
        verify: VerifyMode,
    ) -> Answer:
        report = check_citations(raw, len(packed.sources))
        answer = Answer(
            prepared.question,
            report.text,
            False,
            None,
            "ok",
            packed.sources,
            report.cited,
            report.invalid,
            report.uncited_sentences,
            prepared.timings,
            self.backend.model,
            params,
            usage,
            dropped_sources=packed.dropped,
            retrieval_query=prepared.query,
        )
        if is_declined(report.text, cited=bool(report.cited)):
            answer.refused, answer.refusal_reason = True, "model_declined"
            answer.uncited_sentences, answer.cited = [], []
        if self.policy is not None and (blocked := self.policy.check_answer(report.text)):
            answer.answer, answer.cited, answer.status = blocked.text, [], "policy"
            answer.refused, answer.refusal_reason = True, "output_blocked"
        if verify != "off" and not answer.refused:
            self._verify(answer, verify)
        return answer

    def _verify(self, answer: Answer, mode: VerifyMode) -> None:
        """Check every claim against the sources the model was given; serve what the mode allows."""
        t0 = time.perf_counter()
        question = answer.retrieval_query or answer.question
        verified = self.verifier.verify(question, answer.answer, answer.sources, mode)
        answer.timings_ms["verification"] = (time.perf_counter() - t0) * 1000
        answer.verification = verified.verification
        if verified.refuse:
            answer.answer, answer.refused, answer.refusal_reason = (
                refusal_text(answer.question),
                True,
                verified.reason,
            )
            answer.cited, answer.uncited_sentences = [], []
        elif verified.text != answer.answer:
            report = check_citations(verified.text, len(answer.sources))
            answer.answer, answer.cited, answer.uncited_sentences = (
                report.text,
                report.cited,
                report.uncited_sentences,
            )

    def _unavailable(self, prepared: _Prepared, exc: Exception, params: SamplingParams) -> Answer:
        return Answer(
            prepared.question,
            "",
            False,
            None,
            "generation_unavailable",
            prepared.hits,
            timings_ms=prepared.timings,
            sampling=params,
            error=str(exc),
            error_code=getattr(exc, "code", "generation_error"),
            retrieval_query=prepared.query,
        )

    def sources_for(
        self,
        question: str,
        *,
        params: SamplingParams | None = None,
        k: int | None = None,
        mode: SearchMode = "hybrid",
        search_filter: SearchFilter | None = None,
        conversation: Conversation | None = None,
    ) -> list[Hit]:
        """The sources ``answer`` would give the model (or cite in a refusal), without generating: retrieval is
        deterministic, so an eval can re-check an earlier answer's claims against exactly its sources."""
        prepared = self._prepare(question, k, mode, search_filter, conversation)
        if prepared.early is not None:
            return prepared.early.sources
        return self._pack(prepared, params or SamplingParams()).sources

    def _start(
        self,
        question: str,
        params: SamplingParams | None,
        k: int | None,
        mode: SearchMode,
        search_filter: SearchFilter | None,
        conversation: Conversation | None,
    ) -> tuple[_Prepared, SamplingParams]:
        params = params or SamplingParams()
        prepared = self._prepare(question, k, mode, search_filter, conversation)
        if prepared.early is not None:
            prepared.early.timings_ms, prepared.early.sampling = prepared.timings, params
        return prepared, params

    @staticmethod
    def _timed(prepared: _Prepared, started: float, usage: Usage | None) -> None:
        elapsed = time.perf_counter() - started
        prepared.timings["generation"] = elapsed * 1000
        if usage and usage.completion_tokens and elapsed > 0:
            prepared.timings["tokens_per_s"] = usage.completion_tokens / elapsed

    def answer(
        self,
        question: str,
        *,
        params: SamplingParams | None = None,
        k: int | None = None,
        mode: SearchMode = "hybrid",
        search_filter: SearchFilter | None = None,
        verify: VerifyMode | None = None,
        conversation: Conversation | None = None,
    ) -> Answer:
        """``conversation``: earlier turns (a follow-up is rewritten to stand alone before retrieval) and the
        caller's instructions."""
        prepared, params = self._start(question, params, k, mode, search_filter, conversation)
        if prepared.early is not None:
            return prepared.early
        try:
            packed = self._pack(prepared, params)
            t0 = time.perf_counter()
            completion = self.backend.generate(packed.messages, params)
        except _GENERATION_FAILURES as exc:
            return self._unavailable(prepared, exc, params)
        self._timed(prepared, t0, completion.usage)
        return self._conclude(prepared, packed, params, completion.text, completion.usage, verify)

    def stream(
        self,
        question: str,
        *,
        params: SamplingParams | None = None,
        k: int | None = None,
        mode: SearchMode = "hybrid",
        search_filter: SearchFilter | None = None,
        verify: VerifyMode | None = None,
        conversation: Conversation | None = None,
    ) -> Iterator[AnswerEvent]:
        """``sources`` first, then ``token`` events as generated, then ``done`` with the checked and verified
        :class:`Answer`, whose text replaces the streamed one (claims the sources do not support are gone)."""
        prepared, params = self._start(question, params, k, mode, search_filter, conversation)
        if prepared.early is not None:
            yield AnswerEvent("sources", sources=prepared.early.sources)
            yield AnswerEvent("token", delta=prepared.early.answer)
            yield AnswerEvent("done", answer=prepared.early)
            return
        try:
            packed = self._pack(prepared, params)
        except _GENERATION_FAILURES as exc:
            yield AnswerEvent("sources", sources=prepared.hits)
            yield AnswerEvent("done", answer=self._unavailable(prepared, exc, params))
            return
        yield AnswerEvent("sources", sources=packed.sources)
        pieces: list[str] = []
        usage: Usage | None = None
        t0 = time.perf_counter()
        try:
            for chunk in self.backend.stream(packed.messages, params):
                if chunk.delta:
                    if not pieces:
                        prepared.timings["ttft"] = (time.perf_counter() - t0) * 1000
                    pieces.append(chunk.delta)
                    yield AnswerEvent("token", delta=chunk.delta)
                if chunk.usage is not None:
                    usage = chunk.usage
        except _GENERATION_FAILURES as exc:
            failed = self._unavailable(prepared, exc, params)
            failed.sources = packed.sources
            yield AnswerEvent("done", answer=failed)
            return
        self._timed(prepared, t0, usage)
        yield AnswerEvent(
            "done", answer=self._conclude(prepared, packed, params, "".join(pieces), usage, verify)
        )
