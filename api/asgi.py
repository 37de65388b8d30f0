"""``uvicorn --factory ragqa.api.asgi:build``: the app with settings from the environment / config file."""

from __future__ import annotations

from fastapi import FastAPI

from ragqa.api.app import create_app
from ragqa.config import load_settings


def build() -> FastAPI:
    return create_app(load_settings())
