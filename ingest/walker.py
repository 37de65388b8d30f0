"""Find the files to ingest under the paths a user gives, honouring include/exclude globs."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from pathlib import Path

from ragqa.errors import InputError
from ragqa.ingest.loaders import supported_suffixes

_SKIP_DIRS = frozenset({".git", ".hg", ".svn", "__pycache__", "node_modules", ".ragqa", ".venv", "venv"})


def _matches(path: Path, patterns: Sequence[str]) -> bool:
    text = path.as_posix()
    return any(fnmatch.fnmatch(text, p) or fnmatch.fnmatch(path.name, p) for p in patterns)


def discover_files(
    paths: Sequence[Path], *, include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> list[Path]:
    """Resolved, sorted, de-duplicated files. A named file is always taken (its loader judges it); files found
    by walking a folder must have a supported suffix, match ``include`` if given, and not match ``exclude``."""
    suffixes = set(supported_suffixes())
    found: dict[Path, None] = {}
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            raise InputError(f"no such file or folder: {path}")
        if not path.is_dir():  # a named file (or a pipe, a device…) is the pipeline's to judge
            found[path.resolve()] = None
            continue
        for candidate in sorted(path.rglob("*")):
            rel = candidate.relative_to(path)
            if any(part in _SKIP_DIRS or part.startswith(".") for part in rel.parts[:-1]):
                continue
            if not candidate.is_file() or candidate.name.startswith("."):
                continue
            if candidate.suffix.lower() not in suffixes:
                continue
            if include and not _matches(rel, include):
                continue
            if exclude and _matches(rel, exclude):
                continue
            found[candidate.resolve()] = None
    return list(found)
