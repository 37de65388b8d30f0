"""Typed request and response bodies of the REST API (they make the OpenAPI schema)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ragqa.api.records import ResponseModel, model_of
from ragqa.generation.answerer import RefusalReason, Status
from ragqa.generation.conversation import Conversation, Turn, TurnRole
from ragqa.generation.verify.served import Evidence, ServedClaim
from ragqa.ingest.jobs import PRIVATE_JOB_FIELDS, Job
from ragqa.ingest.loaders import RESERVED_KEYS
from ragqa.principals import Principal
from ragqa.retrieval.docstore import ChunkSpan, DocumentContent, DocumentRow
from ragqa.retrieval.filters import SearchFilter
from ragqa.types import ACL_KEY, Hit, SearchMode, VerifyMode

Mode = SearchMode


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


class SamplingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    top_k: int | None = Field(None, ge=0)
    max_tokens: int | None = Field(None, ge=1, le=8192)
    stop: list[str] | None = Field(None, max_length=8)
    seed: int | None = Field(None, ge=0)
    repetition_penalty: float | None = Field(None, gt=0, le=2)
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    frequency_penalty: float | None = Field(None, ge=-2, le=2)


MetadataValue = str | int | float | bool


class FilterIn(BaseModel):
    """Which documents may answer: metadata equality (a list = any of), a source prefix, document ids."""

    model_config = ConfigDict(extra="forbid")

    metadata: dict[str, MetadataValue | list[MetadataValue]] = Field(default_factory=dict, max_length=32)
    source_prefix: str | None = Field(None, min_length=1, max_length=4096)
    doc_ids: list[str] | None = Field(None, max_length=10000)

    def to_filter(self) -> SearchFilter:
        return SearchFilter.build(self.metadata, self.source_prefix, self.doc_ids)


def search_filter(body: FilterIn | None, principal: Principal) -> SearchFilter | None:
    """The request's filter narrowed to the documents the caller may see; ``None`` when nothing is narrowed."""
    scoped = (body.to_filter() if body is not None else SearchFilter()).within(principal.visible_groups)
    return scoped or None


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(..., min_length=1, max_length=4000)
    mode: Mode = "hybrid"
    k: int = Field(10, ge=1, le=100)
    filter: FilterIn | None = None
    collection: str | None = Field(None, description="The collection to search [the server's]")


HitOut = model_of(Hit, "HitOut")


class SearchResponse(ResponseModel):
    hits: list[HitOut]
    mode: Mode
    timings_ms: dict[str, float]


class TurnIn(BaseModel):
    """An earlier turn of the conversation."""

    model_config = ConfigDict(extra="forbid")

    role: TurnRole
    content: str = Field(..., max_length=16000)


class QueryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(..., min_length=1, max_length=8000)
    history: list[TurnIn] = Field(
        default_factory=list,
        max_length=50,
        description="Earlier turns, oldest first: a follow-up is rewritten to stand alone before retrieval",
    )
    k: int | None = Field(None, ge=1, le=50)
    mode: Mode = "hybrid"
    stream: bool = False
    sampling: SamplingIn = Field(default_factory=SamplingIn)
    verify: VerifyMode | None = Field(None, description="off | annotate | drop | strict [server setting]")
    filter: FilterIn | None = None
    collection: str | None = Field(None, description="The collection to answer from [the server's]")

    def conversation(self) -> Conversation:
        return Conversation(tuple(Turn(t.role, t.content) for t in self.history))


class CitationOut(ResponseModel):
    n: int
    chunk_id: str
    doc_id: str
    title: str
    source: str
    span: list[int]
    text: str


class SourceOut(HitOut):
    n: int


EvidenceOut = model_of(Evidence, "EvidenceOut")
ClaimOut = model_of(ServedClaim, "ClaimOut", evidence=EvidenceOut | None)


class VerificationOut(ResponseModel):
    """:class:`~ragqa.generation.verify.served.Verification` in numbers (the claims are listed beside it)."""

    mode: VerifyMode
    claims: int
    supported: int
    removed: int


class QueryResponse(ResponseModel):
    """:class:`~ragqa.generation.answerer.Answer` as served (``Answer.to_json``)."""

    question: str
    retrieval_query: str = Field(
        description="What was searched: the question, or a follow-up made standalone"
    )
    answer: str
    refused: bool
    refusal_reason: RefusalReason | None
    status: Status
    citations: list[CitationOut]
    sources: list[SourceOut]
    invalid_citations: int
    uncited_sentences: list[str]
    timings: dict[str, float]
    model: str | None
    sampling: dict[str, Any] | None
    usage: dict[str, int] | None
    error: str | None
    error_code: str | None = None
    cited: bool
    claims: list[ClaimOut]
    verification: VerificationOut | None


GroupName = Annotated[str, Field(min_length=1, max_length=128)]


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(..., min_length=1, max_length=256, pattern=r"^[^\s/\\][^/\\]*$")
    text: str = Field(..., min_length=1)
    title: str = Field("", max_length=1000)
    metadata: dict[str, Any] = Field(default_factory=dict)
    acl: list[GroupName] | None = Field(
        None, max_length=64, description="Groups that may see it (API keys' groups); absent = every key"
    )

    @field_validator("metadata")
    @classmethod
    def _no_reserved_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        reserved = sorted((RESERVED_KEYS | {ACL_KEY}) & value.keys())
        if reserved:
            raise ValueError(f"metadata may not set the reserved field(s) {', '.join(reserved)}")
        return value


class DocumentsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    documents: list[DocumentIn] = Field(..., min_length=1, max_length=10000)


DocumentOut = model_of(DocumentRow, "DocumentOut")
ChunkSpanOut = model_of(ChunkSpan, "ChunkSpanOut")
DocumentContentOut = model_of(DocumentContent, "DocumentContentOut", chunks=list[ChunkSpanOut])


class DocumentPage(BaseModel):
    documents: list[DocumentOut]
    offset: int
    limit: int
    total: int


JobOut = model_of(Job, "JobOut", exclude=PRIVATE_JOB_FIELDS)  # server paths and key details stay private


class JobPage(BaseModel):
    jobs: list[JobOut]


class DeleteResponse(BaseModel):
    deleted: list[str]


class RequestDefaults(BaseModel):
    mode: Mode
    k: int
    verify: VerifyMode
    sampling: dict[str, float | int]


class InfoResponse(BaseModel):
    version: str
    collection: str
    keys_required: bool
    search_modes: list[Mode]
    verify_modes: list[VerifyMode]
    defaults: RequestDefaults


class HealthResponse(BaseModel):
    status: str
    checks: dict[str, str] = Field(default_factory=dict)


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    """OpenAI chat-completions request; the last user message is the question."""

    model_config = ConfigDict(extra="allow")

    model: str | None = None
    messages: list[ChatMessage] = Field(..., min_length=1)
    stream: bool = False
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    max_tokens: int | None = Field(None, ge=1, le=8192)
    seed: int | None = Field(None, ge=0)
    stop: str | list[str] | None = None
    verify: VerifyMode | None = Field(
        None, description="ragqa extra: off | annotate | drop | strict [server setting]"
    )
    filter: FilterIn | None = Field(None, description="ragqa extra: which documents may answer")
    collection: str | None = Field(None, description="ragqa extra: the collection to answer from")
