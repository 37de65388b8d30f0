"""Logging set-up shared by the CLI and the API server: one line per event on stderr, noisy libraries quiet."""

from __future__ import annotations

import logging
import sys

_NOISY = ("sentence_transformers", "jieba", "bm25s", "httpx", "httpcore", "faiss", "urllib3", "multipart")


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    root = logging.getLogger()
    root.setLevel(level.upper())
    for handler in root.handlers:  # also below libraries that set their own loggers' levels (bm25s: DEBUG)
        handler.setLevel(level.upper())
    for name in _NOISY:
        logging.getLogger(name).setLevel(logging.WARNING)
