"""A real uvicorn server on 127.0.0.1 per test module, serving the app with a real llama.cpp model."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from ragqa.api.app import create_app
from ragqa.config import Settings, load_settings
from ragqa.generation.backend import GenerationBackend
from ragqa.generation.llamacpp_backend import free_port


class LiveServer:
    def __init__(self, settings: Settings, backend: GenerationBackend | None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings, backend=backend),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.time() + 30
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(30)


ServerFactory = Callable[..., LiveServer]


def _servers(data_dir: Path) -> Iterator[ServerFactory]:
    servers: list[LiveServer] = []

    def make(backend: GenerationBackend | None = None, **overrides: Any) -> LiveServer:
        settings = load_settings(data_dir=data_dir, **overrides)
        server = LiveServer(settings, backend).__enter__()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[ServerFactory]:
    yield from _servers(tmp_path / "data")


@pytest.fixture(scope="module")
def live_server_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerFactory]:
    """The same, one data dir per test module: for tests that share one corpus and one server."""
    yield from _servers(tmp_path_factory.mktemp("live") / "data")
