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
import time
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def running_server(*args: str, startup_s: float = 120.0) -> Iterator[tuple[str, subprocess.Popen]]:
    """Starts ``rlsp serve`` in a subprocess on a free loopback port; always stops it."""
    port = free_port()
    cmd = [sys.executable, "-m", "rlsp_env.server", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(
        [*cmd, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}: {proc.stdout.read()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not become healthy in time")
            time.sleep(0.2)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
