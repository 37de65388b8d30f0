"""``uvicorn --factory ragqa.api.asgi:build``: the app with settings from the environment / config file."""

from __future__ import annotations

import sys

from fastapi import FastAPI

from ragqa.api.app import create_app
from ragqa.config import load_settings
from ragqa.errors import RagqaError
from ragqa.logs import configure_logging


def build() -> FastAPI:
    """Refuses (one line, exit 2) settings that would serve beyond loopback without keys; a request that reaches
    an interface other than loopback without keys configured (``uvicorn --host 0.0.0.0``) gets 403."""
    try:
        settings = load_settings()
        settings.require_safe_serving()
    except RagqaError as exc:
        print(f"ragqa: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings.log_level or "INFO", settings.log_format)
    return create_app(settings)
