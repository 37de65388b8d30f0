"""An exclusive lock between processes, held for a ``with`` block, on a file beside what it guards
(``.locks/<name>.lock``, as Hugging Face's cache keeps them): the first process to make a model file or folder
makes it once; the others wait, then find it made. Lock files stay (removing one while another process waits
on it would let a third take a new one). Where no lock file can be created (a read-only model cache), nothing
can be made there either, so the block runs unlocked and only reads."""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

LOCKS = ".locks"


def lock_path(path: Path) -> Path:
    return path.parent / LOCKS / f"{path.name}.lock"


@contextmanager
def exclusive(path: Path) -> Iterator[None]:
    """Hold the lock that guards ``path`` (blocking; says so in the log when another process holds it)."""
    lock = lock_path(path)
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock, "a")  # noqa: SIM115 - closed below, after the lock is released
    except OSError:
        handle = None
    if handle is None:
        yield
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("waiting for another process that is making %s", path)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
