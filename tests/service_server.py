"""A real ``chipgate serve`` in a subprocess on a free loopback port, for the service tests and bench."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
TOKEN = "test-admin-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(*options: str, ready: bool = True, timeout: float = 180):
    """Start ``chipgate serve OPTIONS`` and yield (base URL, process); wait for /readyz unless ``ready`` is False."""
    port = free_port()
    command = [sys.executable, str(REPO / "cli.py"), "serve", "--port", str(port), "--admin-token", TOKEN, *options]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"chipgate serve exited: {process.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(f"{url}/readyz" if ready else f"{url}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("chipgate serve did not become ready")
            time.sleep(0.2)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
