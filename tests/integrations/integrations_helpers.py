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


def _thirdparty_module():
    """``scripts/thirdparty.py`` (the pins and install folders the set-up uses), loaded by path."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "thirdparty.py"
    spec = importlib.util.spec_from_file_location("rlsp_thirdparty", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: The peers' packages (verl, OpenRLHF) installed by ``scripts/setup_env.sh`` without their GPU
#: stacks, each in its own folder inside the venv: see ``scripts/thirdparty.py``.
THIRDPARTY: dict[str, list[str]] = _thirdparty_module().THIRDPARTY


def thirdparty_path(name: str) -> str:
    """The folder holding ``THIRDPARTY[name]``, installed by the set-up (never by a test).

    Fails (does not skip) when it is missing: an offline CI must run every integration test.
    """
    import pytest

    tp = _thirdparty_module()
    if not tp.installed(name):
        pytest.fail(
            f"{name} is not installed in {tp.folder(name)}: run `bash scripts/setup_env.sh` "
            f"(or `{sys.executable} scripts/thirdparty.py`)",
            pytrace=False,
        )
    return str(tp.folder(name))


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
