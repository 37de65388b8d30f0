"""SQLite failures on the data dir's databases (the manifests, the jobs) as ragqa errors with codes."""

from __future__ import annotations

import functools
import inspect
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from ragqa.errors import CollectionBusyError, DiskFullError, IndexCorruptError, RagqaError, ReadOnlyError


def sqlite_error(exc: sqlite3.DatabaseError, path: Path) -> RagqaError:
    """The ragqa error for an SQLite failure on a database of the data dir: disk full, read-only, busy, or
    damaged."""
    text = str(exc).lower()
    if "full" in text or ("disk i/o" in text and cannot_write_beside(path)):
        return DiskFullError(f"disk full while writing {path}; nothing was committed — free space and retry")
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return ReadOnlyError(f"{path} cannot be written here (read-only data dir)")
    if "locked" in text or "busy" in text:
        return CollectionBusyError(f"{path} is locked by another process; try again")
    return IndexCorruptError(
        f"{path} is damaged ({exc}); restore it from a backup, or delete the collection folder and ingest again"
    )


def cannot_write_beside(path: Path) -> bool:
    """The manifest's folder is read-only or its disk is full."""
    if not os.access(path.parent, os.W_OK):
        return True
    try:
        return shutil.disk_usage(path.parent).free < 1 << 20
    except OSError:
        return False


def translated_sqlite(cls: type) -> type:
    """Every public method of the class reports SQLite failures as ragqa errors (generators included)."""
    for name, member in list(vars(cls).items()):
        if name.startswith("_"):
            continue
        is_static = isinstance(member, staticmethod)
        func = member.__func__ if is_static else member
        if not callable(func):
            continue
        if inspect.isgeneratorfunction(func):

            def wrapped_gen(*args: Any, _func: Any = func, **kwargs: Any) -> Any:
                try:
                    yield from _func(*args, **kwargs)
                except sqlite3.DatabaseError as exc:
                    raise sqlite_error(exc, _path_of(args)) from exc

            wrapper: Any = functools.wraps(func)(wrapped_gen)
        else:

            def wrapped(*args: Any, _func: Any = func, **kwargs: Any) -> Any:
                try:
                    return _func(*args, **kwargs)
                except sqlite3.DatabaseError as exc:
                    raise sqlite_error(exc, _path_of(args)) from exc

            wrapper = functools.wraps(func)(wrapped)
        setattr(cls, name, staticmethod(wrapper) if is_static else wrapper)
    return cls


def _path_of(args: tuple[Any, ...]) -> Path:
    return getattr(args[0], "path", Path("manifest.sqlite")) if args else Path("manifest.sqlite")
