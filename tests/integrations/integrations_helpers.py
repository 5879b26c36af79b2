"""Helpers shared by the integration tests (not collected: the name does not start with test_).

Slow, hung and crashing items are the verifier worker's own test hooks (active only with
``RLSP_VERIFIERS_TEST_HOOKS=1`` in the worker's environment; ``running_server(..., hooks=True)``
sets it): a response starting with ``__rlsp_test_sleep__:N`` holds its worker for N seconds
without any deadline check, ``__rlsp_test_exit__`` kills the worker. Every door scores with
``rlsp_env.scoring.score_batch``; there are no custom scorers to inject.
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

import httpx


def sleep_for(s: float, rest: str = "") -> str:
    """A response that holds its verifier worker for ``s`` seconds, then is verified as usual."""
    return f"__rlsp_test_sleep__:{s} {rest}"


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
def running_server(*args: str, startup_s: float = 120.0, hooks: bool = False) -> Iterator[Server]:
    """Starts ``rlsp serve`` in a subprocess on a free loopback port; always stops it.

    ``hooks=True`` turns the verifier workers' test hooks on (see the module docstring).
    """
    port = free_port()
    cmd = [sys.executable, "-m", "rlsp_env.server", "--host", "127.0.0.1", "--port", str(port)]
    env = dict(os.environ)
    here = os.path.dirname(os.path.abspath(__file__))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [here, env.get("PYTHONPATH")]))
    if hooks:
        env["RLSP_VERIFIERS_TEST_HOOKS"] = "1"
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


#: Peers' packages installed without their GPU stacks (``pip install --no-deps``) into a cache
#: folder, to test against their real loaders and clients. Exact pins: what was checked to import.
THIRDPARTY: dict[str, list[str]] = {
    # verl's reward loader (verl.trainer.ppo.reward) imports verl.protocol, which needs these.
    "verl": [
        "verl==0.9.1",
        "ray==2.60.0",
        "tensordict==0.15.3",
        "omegaconf==2.4.0",
        "antlr4-python3-runtime==4.9.3",
        "codetiming==1.4.0",
        "msgpack==1.2.4",
        "pyvers==0.2.3",
        "pybind11==3.1.0",
        "orjson==3.13.0",
    ],
    # openrlhf.utils.agent (the remote reward client) needs pylatexenc besides torch/transformers.
    "openrlhf": ["openrlhf==0.11.2", "pylatexenc==2.11"],
}


def thirdparty_path(name: str) -> str:
    """Installs ``THIRDPARTY[name]`` once (no dependencies) into the rlsp cache; returns the folder.

    Calls ``pytest.skip`` with the reason when the registry cannot be reached.
    """
    import hashlib

    import pytest

    from rlsp_agents.models import cache_dir

    pins = THIRDPARTY[name]
    key = hashlib.sha256("\n".join(pins).encode()).hexdigest()[:12]
    target = cache_dir() / "thirdparty" / f"{name}-{key}"
    marker = target / ".rlsp-installed"
    if marker.is_file():
        return str(target)
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target)]
    proc = subprocess.run([*cmd, *pins], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        pytest.skip(f"could not install {name} for this test: {proc.stderr.strip()[-500:]}")
    marker.write_text("\n".join(pins))
    return str(target)


def run_with_path(path: str, script: str, *args: str, timeout: float = 300) -> str:
    """Runs a Python script in a subprocess with ``path`` first on sys.path; returns its stdout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [path, env.get("PYTHONPATH")]))
    env.setdefault("RAY_DISABLE_IMPORT_WARNING", "1")
    proc = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(f"script failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout
