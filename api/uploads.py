"""Where uploaded files are kept: ``<data_dir>/uploads/<collection>/<sha256[:16]>/<name>``.

A document's identity comes from its stored path, so the folder named by the content's hash keeps two
different files that share a name apart (two documents), while the same bytes under the same name land on the
same path (a no-op re-upload). Replacing a document writes the new bytes over its stored file (same path,
same document id). Deleting a document's last record removes its stored file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import uuid
from pathlib import Path

from ragqa.api.errors import ApiError
from ragqa.config import Settings
from ragqa.retrieval.fsutil import storage_error

_UNSAFE = re.compile(r"[^\w.\-() ]+", re.UNICODE)


def safe_name(filename: str) -> str:
    """A file name that cannot leave the upload folder: no folders, no dot-files, no odd characters."""
    name = _UNSAFE.sub("_", Path(filename.replace("\\", "/")).name).strip(" .")
    if not name or name in {".", ".."}:
        raise ApiError(422, "invalid_filename", f"unusable file name {filename!r}")
    return name[:200]


def upload_root(settings: Settings) -> Path:
    return (settings.data_dir / "uploads" / settings.collection).resolve()


def is_upload(settings: Settings, source: str) -> bool:
    return Path(source).resolve().is_relative_to(upload_root(settings))


def write_atomic(target: Path, data: bytes) -> None:
    """Write the whole file or nothing (a full disk or a read-only data dir leaves no partial upload)."""
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        raise storage_error(exc, f"storing the upload {target.name}") from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def store_upload(settings: Settings, name: str, data: bytes) -> Path:
    """Keep ``data`` as a new upload named ``name``; the same bytes under the same name reuse their file."""
    digest = hashlib.sha256(data).hexdigest()[:16]
    target = upload_root(settings) / digest / name
    if target.is_file():
        if target.read_bytes() == data:
            return target  # untouched: ingestion sees an unchanged file
        # that file was replaced in place by a later upload: these bytes are a document of their own
        target = upload_root(settings) / f"{digest}-{uuid.uuid4().hex[:8]}" / name
    write_atomic(target, data)
    return target


def replace_upload(settings: Settings, source: str, name: str, data: bytes) -> Path:
    """Write ``data`` over the stored upload ``source`` (the document keeps its id)."""
    target = Path(source)
    if not is_upload(settings, source):
        raise ApiError(
            409,
            "not_an_upload",
            f"the document comes from {source}, not from an upload; re-ingest that path to change it",
        )
    if Path(name).suffix.lower() != target.suffix.lower():
        raise ApiError(
            422,
            "invalid_request",
            f"a {target.suffix} document can only be replaced by a {target.suffix} file, not {name!r}",
        )
    write_atomic(target, data)
    return target


def remove_upload(settings: Settings, source: str) -> None:
    """Delete a stored upload (and its folder once empty); a path outside the upload folder is left alone."""
    if not is_upload(settings, source):
        return
    path = Path(source)
    path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty, or already gone
        path.parent.rmdir()
