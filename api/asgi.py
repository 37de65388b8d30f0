"""``uvicorn --factory ragqa.api.asgi:build``: the app with settings from the environment / config file."""

from __future__ import annotations

from fastapi import FastAPI

from ragqa.api.app import create_app
from ragqa.config import load_settings
from ragqa.logs import configure_logging


def build() -> FastAPI:
    settings = load_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
