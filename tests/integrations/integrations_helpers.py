"""Helpers shared by the integration tests (not collected: the name does not start with test_).

``slow_scorer`` has the signature of ``rlsp_env.rewards.score`` and exists only to drive the
scoring pool's timeout and crash handling deterministically: it sleeps, raises or kills its
process on marker words, and otherwise delegates to the real ``rlsp_env.rewards.score``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import httpx


def slow_scorer(response: str, gold: str, *, weights: Any = "rlsp") -> Any:
    if "SLEEP_FOREVER" in response:
        time.sleep(3600)
    if "RAISE" in response:
        raise ValueError("scorer failure on purpose")
    if "CRASH" in response:
        os._exit(3)
    if "CONST" in response:
        return SimpleNamespace(
            reward=0.5, rewards={"correctness": 1.0}, verdict={"correct": True, "reason": "equal"}
        )
    from rlsp_env import rewards

    return rewards.score(response, gold, weights=weights)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    proc: subprocess.Popen
    log_path: str

    def log(self) -> str:
        with open(self.log_path) as f:
            return f.read()


@contextmanager
def running_server(*args: str, startup_s: float = 120.0) -> Iterator[Server]:
    """Starts ``rlsp serve`` in a subprocess on a free loopback port; always stops it."""
    port = free_port()
    cmd = [sys.executable, "-m", "rlsp_env.server", "--host", "127.0.0.1", "--port", str(port)]
    env = dict(os.environ)
    here = os.path.dirname(os.path.abspath(__file__))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [here, env.get("PYTHONPATH")]))
    fd, log_path = tempfile.mkstemp(prefix=f"rlsp-serve-{port}-", suffix=".log")
    with os.fdopen(fd, "w") as log:
        proc = subprocess.Popen([*cmd, *args], stdout=log, stderr=subprocess.STDOUT, env=env)
    server = Server(f"http://127.0.0.1:{port}", proc, log_path)
    try:
        deadline = time.monotonic() + startup_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}: {server.log()[-4000:]}")
            try:
                if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not become healthy: {server.log()[-4000:]}")
            time.sleep(0.2)
        yield server
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        os.unlink(log_path)
