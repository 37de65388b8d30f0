"""Without API keys ragqa serves loopback only, whichever way it is started: ``ragqa serve``, or uvicorn's own
command line with the app factory (as Docker images and process managers do)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ragqa.generation.llamacpp_backend import free_port
from tests.processes import env_for, ragqa


def _outside_address() -> str:
    """An IPv4 address of this machine that is not loopback (the one a route to the outside would use)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the interface
            address = probe.getsockname()[0]
        except OSError:
            address = ""
    if not address or address.startswith("127."):
        pytest.skip("this machine has no non-loopback IPv4 address")
    return address


def _uvicorn(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "ragqa.api.asgi:build", "--host", "0.0.0.0", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip


def test_uvicorn_on_all_interfaces_without_keys_answers_loopback_only(tmp_path: Path) -> None:
    outside = _outside_address()
    port = free_port()
    proc = _uvicorn(env_for(tmp_path / "data"), port)
    try:
        deadline = time.time() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
            try:
                local = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.time() < deadline, "uvicorn did not come up"
                time.sleep(0.2)
        assert local.status_code == 200
        refused = httpx.get(f"http://{outside}:{port}/v1/search", params={"q": "x"}, timeout=5)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "api_keys_required"
        assert httpx.get(f"http://{outside}:{port}/healthz", timeout=5).status_code == 403
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_settings_that_listen_beyond_loopback_without_keys_refuse_to_start(tmp_path: Path) -> None:
    env = env_for(tmp_path / "data", api_host="0.0.0.0")
    proc = _uvicorn(env, free_port())
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and b"refusing to listen on 0.0.0.0 without API keys" in err
    assert b"Traceback" not in err
    cli = ragqa("serve", "--port", str(free_port()), env=env, timeout=60)
    assert (
        cli.returncode == 2
        and "refusing to listen on 0.0.0.0" in cli.stderr
        and "Traceback" not in cli.stderr
    )
