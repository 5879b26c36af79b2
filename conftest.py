"""Test-session hygiene for the whole suite (tests and the packages' doctests).

Every temporary file the suite makes goes under one directory of this session, removed when the
session ends: pytest's ``tmp_path``, the doctests' ``tempfile.mkdtemp()``, the vLLM engines' IPC
sockets and temporary folders, ``torchrun``'s rendezvous folders, Ray's session folder. Without
it each run of the suite left a few dozen sockets and folders in the system's temporary
directory. ``TMPDIR`` (and ``RAY_TMPDIR``) are set before any test runs, so child processes
(engines, ``torchrun`` workers) inherit it.

The directory is a fresh ``<repository>/.pytest-tmp/<pid>-<random>`` (ignored by git) when that
path is short enough for the Unix socket names made under it (108 bytes: a 36-character socket
name for vLLM, Ray's ``session_<time>/sockets/plasma_store`` for Ray), else a fresh folder under
the system's temporary directory. When the session ends the variables are restored and the folder
removed; ``RLSP_KEEP_TEST_TMP=1`` keeps it for inspection.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

_SUN_PATH = 108 - 1  # the sun_path limit, less its NUL
_VLLM_ROOM = _SUN_PATH - 40  # "/<uuid4>" and a little margin
_RAY_ROOM = _SUN_PATH - 75  # "/session_2026-12-03_18-36-17_123456_12345/sockets/plasma_store"


def _fresh(room: int, prefix: str) -> Path:
    local = Path(__file__).resolve().parent / ".pytest-tmp"
    if len(str(local)) + 1 + len(prefix) + 12 <= room:  # mkdtemp adds 8 random characters
        local.mkdir(exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=prefix, dir=local))
    return Path(tempfile.mkdtemp(prefix=f"rlsp-tests-{prefix}"))


_SAVED = {k: os.environ.get(k) for k in ("TMPDIR", "RAY_TMPDIR")}
_SAVED_TEMPDIR = tempfile.tempdir
_TMP = _fresh(_VLLM_ROOM, f"{os.getpid()}-")
_RAY_TMP = _fresh(_RAY_ROOM, "r-")
os.environ["TMPDIR"] = str(_TMP)
os.environ["RAY_TMPDIR"] = str(_RAY_TMP)
tempfile.tempdir = str(_TMP)


def pytest_unconfigure(config) -> None:  # noqa: ARG001 (pytest's hook signature)
    for key, value in _SAVED.items():  # later hooks and plugins see the caller's settings
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    tempfile.tempdir = _SAVED_TEMPDIR
    if os.environ.get("RLSP_KEEP_TEST_TMP") == "1":
        print(f"\n[rlsp tests] temporary files kept in {_TMP} and {_RAY_TMP}")
        return
    for folder in (_TMP, _RAY_TMP):
        shutil.rmtree(folder, ignore_errors=True)
        if folder.parent.name == ".pytest-tmp":
            try:
                folder.parent.rmdir()  # only when no other session is using it
            except OSError:
                pass
