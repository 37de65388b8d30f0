"""Checksums of a generation's index files, recorded at commit and verified whenever a generation is opened.

``generation.json`` lists every file of the generation folder with its size and SHA-256. A flipped byte, a
truncated file or a missing one makes the generation refuse to open with :class:`IndexCorruptError` naming
the file (``ragqa repair`` rebuilds the indexes from the manifest), instead of answering from damaged data.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from ragqa.errors import IndexCorruptError
from ragqa.hashing import file_sha256

log = logging.getLogger(__name__)

GENERATION_FILE = "generation.json"
# Hashes already computed, by (path, size, mtime): re-verifying an untouched generation (``/readyz``) is free,
# while a file written since (even at the same size) is hashed again.
_SEEN: dict[tuple[str, int, int], str] = {}


def _sha256(path: Path) -> str:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _SEEN:
        if len(_SEEN) > 10_000:
            _SEEN.clear()
        _SEEN[key] = file_sha256(path)
    return _SEEN[key]


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != GENERATION_FILE)


def write_manifest(root: Path, info: dict[str, Any]) -> None:
    """Record ``info`` plus each file's size and SHA-256 in ``root/generation.json``."""
    files = {
        str(p.relative_to(root)): {"size": p.stat().st_size, "sha256": file_sha256(p)} for p in _files(root)
    }
    (root / GENERATION_FILE).write_text(json.dumps({**info, "files": files}, indent=1))


def verify(root: Path) -> dict[str, Any]:
    """Check every recorded file of a generation; returns the recorded info. Raises IndexCorruptError."""
    hint = "run `ragqa repair` to rebuild the indexes from the manifest"
    try:
        info = json.loads((root / GENERATION_FILE).read_text())
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(
            f"index generation {root.name} has no readable {GENERATION_FILE}; {hint}"
        ) from exc
    files = info.get("files") if isinstance(info, dict) else None
    if files is None:
        log.warning("index generation %s predates checksums; not verified", root)
        return info if isinstance(info, dict) else {}
    for rel, expected in files.items():
        path = root / rel
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise IndexCorruptError(f"index file {path} is missing; {hint}") from exc
        if size != expected["size"]:
            raise IndexCorruptError(
                f"index file {path} is {size} bytes, {expected['size']} were written; {hint}"
            )
        if _sha256(path) != expected["sha256"]:
            raise IndexCorruptError(f"index file {path} does not match its checksum (damaged); {hint}")
    extra = sorted(set(map(str, (p.relative_to(root) for p in _files(root)))) - set(files))
    if extra:
        log.warning("index generation %s holds unrecorded files: %s", root, ", ".join(extra[:5]))
    return info
