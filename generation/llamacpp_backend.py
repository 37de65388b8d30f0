"""The embedded CPU default: llama.cpp's own server (``xllamacpp``) in-process, bound to 127.0.0.1 on a free
port, spoken to over its OpenAI-compatible API — the same code path as a remote ``vllm serve``.

The server takes a random key made for this process, so no other local process can use the model behind
ragqa's API keys, rate limits and answer policy."""

from __future__ import annotations

import logging
import os
import secrets
import socket
from pathlib import Path
from typing import Any

from ragqa.errors import ModelFileError
from ragqa.generation.openai_backend import OpenAIBackend

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LlamaCppServer:
    """Owns one in-process llama.cpp HTTP server; stopping it frees the model."""

    def __init__(self, model_path: Path, *, context: int, threads: int, port: int | None = None) -> None:
        import xllamacpp as xlc

        params = xlc.CommonParams()
        params.model.path = str(model_path)
        params.n_ctx = context
        params.n_parallel = 1
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.hostnames = ["127.0.0.1"]
        params.port = port or free_port()
        self.api_key = secrets.token_urlsafe(32)
        params.api_keys = [self.api_key]
        params.verbosity = -1
        try:
            self._server: Any = xlc.Server(params)
        except Exception as exc:
            raise ModelFileError(f"llama.cpp could not load {model_path}: {exc}") from exc
        self.url = str(self._server.listening_address)
        log.info(
            "llama.cpp serving %s at %s (ctx %d, %d threads)", model_path.name, self.url, context, threads
        )

    def stop(self) -> None:
        self._server = None


class LlamaCppBackend(OpenAIBackend):
    name = "llamacpp"

    def __init__(self, model_path: Path, *, context: int = 4096, threads: int = 0, timeout: float = 120.0):
        self.server = LlamaCppServer(model_path, context=context, threads=threads or (os.cpu_count() or 1))
        super().__init__(
            f"{self.server.url}/v1",
            model=model_path.stem,
            api_key=self.server.api_key,
            timeout=timeout,
            context_window=context,
        )

    def close(self) -> None:
        super().close()
        self.server.stop()
