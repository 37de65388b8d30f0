"""Errors users see. Each carries a stable ``code`` so the CLI and API can report it without a traceback."""

from __future__ import annotations

EXIT_SOME_FILES_FAILED = 6  # `ragqa ingest`: the good files were ingested, some files failed


class RagqaError(Exception):
    """Base class: ``str(err)`` is the message shown to the user."""

    code = "ragqa_error"
    exit_code = 1


class ConfigError(RagqaError):
    code = "invalid_config"
    exit_code = 2


class MissingExtraError(ConfigError):
    """A feature whose packages are an optional extra that is not installed."""

    code = "missing_extra"


class InputError(RagqaError):
    """Bad input from the user: an empty question, a path that does not exist, bad flags."""

    code = "invalid_input"
    exit_code = 2


class DocumentError(RagqaError):
    """One source file could not be read; ingestion reports it and goes on with the others."""

    code = "unreadable_document"


class IndexMissingError(RagqaError):
    code = "index_missing"
    exit_code = 3


class IndexCorruptError(RagqaError):
    code = "index_corrupt"
    exit_code = 3


class IndexMismatchError(RagqaError):
    """The collection was built with settings (embedder, dimension…) that differ from the current ones."""

    code = "index_mismatch"
    exit_code = 3


class StorageError(RagqaError):
    """Writing the data dir failed for a reason outside ragqa (an I/O error); nothing was committed."""

    code = "storage_error"
    exit_code = 7


class DiskFullError(StorageError):
    """The disk (or quota) is full; the write was abandoned and the committed data is intact."""

    code = "disk_full"


class ReadOnlyError(StorageError):
    """The data dir cannot be written: searches and answers still work, changes are refused."""

    code = "read_only"


class CollectionBusyError(RagqaError):
    code = "collection_busy"
    exit_code = 4


class GenerationError(RagqaError):
    """The generation backend answered with an error."""

    code = "generation_error"
    exit_code = 5


class GenerationUnavailableError(GenerationError):
    """The generation backend is down or unreachable; retrieval results are still returned."""

    code = "generation_unavailable"


class GenerationTimeoutError(GenerationError):
    code = "generation_timeout"


class ModelFileError(RagqaError):
    """A model file is missing or fails its checksum."""

    code = "model_file"
    exit_code = 3


class VectorStoreError(RagqaError):
    """The vector store (Milvus) refused an operation."""

    code = "vector_store_error"
    exit_code = 3


class VectorStoreUnavailableError(VectorStoreError):
    """A server-side vector store (Milvus) cannot be reached."""

    code = "vector_store_unavailable"
    exit_code = 3
