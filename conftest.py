"""Test-session hygiene for the whole suite (tests and the packages' doctests).

Every temporary file the suite makes goes under one directory of this session, removed when the
session ends: pytest's ``tmp_path``, the doctests' ``tempfile.mkdtemp()``, the vLLM engines' IPC
sockets and temporary folders, ``torchrun``'s rendezvous folders, Ray's session folder. Without
it each run of the suite left a few dozen sockets and folders in the system's temporary
directory. ``TMPDIR`` (and ``RAY_TMPDIR``) are set before any test runs, so child processes
(engines, ``torchrun`` workers) inherit it.

The directory is ``<repository>/.pytest-tmp/<pid>`` (ignored by git) when that path is short
enough for Unix socket names (108 bytes, with a 36-character socket name under it), else a fresh
folder under the system's temporary directory. ``RLSP_KEEP_TEST_TMP=1`` keeps it for inspection.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

_SOCKET_ROOM = 108 - 1 - 40  # sun_path limit, a NUL, "/<uuid4>" and a little margin


def _session_dir() -> Path:
    local = Path(__file__).resolve().parent / ".pytest-tmp" / str(os.getpid())
    if len(str(local)) <= _SOCKET_ROOM:
        shutil.rmtree(local, ignore_errors=True)  # a previous process with this pid
        local.mkdir(parents=True)
        return local
    return Path(tempfile.mkdtemp(prefix="rlsp-tests-"))


_TMP = _session_dir()
os.environ["TMPDIR"] = str(_TMP)
os.environ["RAY_TMPDIR"] = str(_TMP)
tempfile.tempdir = str(_TMP)


def pytest_unconfigure(config) -> None:  # noqa: ARG001 (pytest's hook signature)
    if os.environ.get("RLSP_KEEP_TEST_TMP") == "1":
        print(f"\n[rlsp tests] temporary files kept in {_TMP}")
        return
    shutil.rmtree(_TMP, ignore_errors=True)
    parent = _TMP.parent
    if parent.name == ".pytest-tmp":
        try:
            parent.rmdir()  # only when no other session is using it
        except OSError:
            pass
