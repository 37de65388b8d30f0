"""Durable file-system helpers: fsync files and folders so a rename is the commit."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

from ragqa.errors import DiskFullError, ReadOnlyError, StorageError

_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
_READ_ONLY = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


def storage_error(exc: OSError, doing: str) -> StorageError:
    """The ragqa error for an OS error while writing: disk full, read-only, or another I/O failure."""
    reason = exc.strerror or str(exc)
    where = f" ({exc.filename})" if exc.filename else ""
    if exc.errno in _FULL:
        return DiskFullError(
            f"disk full while {doing}{where}: {reason}; nothing was committed — free space and retry"
        )
    if exc.errno in _READ_ONLY:
        return ReadOnlyError(f"cannot write while {doing}{where}: {reason}; the data dir is read-only")
    return StorageError(f"I/O error while {doing}{where}: {reason}; nothing was committed")


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """fsync every file under ``root`` and then every folder, deepest first."""
    dirs: list[Path] = []
    for dirpath, _, files in os.walk(root):
        dirs.append(Path(dirpath))
        for name in files:
            fsync_path(Path(dirpath) / name)
    for d in reversed(dirs):
        fsync_path(d)


def publish_dir(tmp: Path, final: Path) -> None:
    """Atomically make a fully written ``tmp`` folder visible as ``final``."""
    fsync_tree(tmp)
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    fsync_path(final.parent)
