"""No vLLM engine process survives a run, an exception, Ctrl-C (SIGINT) or SIGTERM.

Each test runs a sampler in a child Python process tagged with a unique environment variable,
disturbs it, and then scans ``/proc`` for any process that still carries the tag: every process
the child started (engine core, workers, helpers) inherits the tag, even after being orphaned.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

pytest.importorskip("vllm")
pytestmark = [pytest.mark.slow, pytest.mark.vllm]

CHILD = textwrap.dedent(
    """
    import signal, sys, time
    # A Ctrl-C from a terminal: restore Python's handler, since a parent started in the
    # background of a non-interactive shell (as CI may be) hands SIGINT down as ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from rlsp_agents.sampler import make_sampler

    mode, in_process = sys.argv[1], sys.argv[2] == "1"
    if __name__ == "__main__":
        with make_sampler("vllm", "smollm2-135m", max_model_len=256, in_process=in_process,
                          kv_cache_gib=0.25) as s:
            print("READY", s.model_path, flush=True)
            if mode == "raise":
                s.generate(["hello"], max_new_tokens=4)
                raise RuntimeError("boom")
            if mode == "generate":
                while True:  # interrupted inside generation
                    s.generate(["hello"] * 16, max_new_tokens=64)
            time.sleep(600)
    """
)


def _tagged(tag: str) -> list[tuple[int, str]]:
    """Processes whose environment holds ``RLSP_PROC_TAG=<tag>`` (pid, name), zombies excluded."""
    found = []
    needle = f"RLSP_PROC_TAG={tag}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state = stat.rsplit(")", 1)[1].split()[0]
        if state != "Z":
            found.append((int(entry.name), (entry / "comm").read_text().strip()))
    return found


def _run(tmp_path: Path, mode: str, in_process: bool, sig: int | None) -> tuple[int, str]:
    """Runs the child, sends ``sig`` once the engine is up, and checks nothing survives.

    Returns the child's exit code and its stderr.
    """
    tag = uuid.uuid4().hex
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = dict(os.environ, RLSP_PROC_TAG=tag, PYTHONUNBUFFERED="1")
    out_path, err_path = tmp_path / "out.txt", tmp_path / "err.txt"
    # files, not pipes: an orphaned engine holding a pipe open must not hang the test
    with out_path.open("w") as out, err_path.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, str(script), mode, "1" if in_process else "0"],
            stdout=out,
            stderr=err,
            env=env,
        )
    try:
        deadline = time.monotonic() + 240
        while "READY" not in out_path.read_text() and proc.poll() is None:
            assert time.monotonic() < deadline, "the engine did not start in 240 s"
            time.sleep(0.5)
        ready = [ln for ln in out_path.read_text().splitlines() if ln.startswith("READY")]
        assert ready, f"child failed to start: {err_path.read_text()[-3000:]}"
        model_dir = Path(ready[0].split()[1])
        if not in_process and proc.poll() is None:
            # the engine core runs in a separate process: the case that leaks without cleanup
            assert len(_tagged(tag)) >= 2, _tagged(tag)
        if sig is not None:
            time.sleep(3.0 if mode == "generate" else 0.5)
            proc.send_signal(sig)
        proc.wait(timeout=300)  # generous: a loaded machine delivers the signal late
        deadline = time.monotonic() + 15
        while _tagged(tag) and time.monotonic() < deadline:
            time.sleep(0.5)
        left = _tagged(tag)
        stderr = err_path.read_text()
        assert left == [], f"processes survived: {left}\n{stderr[-3000:]}"
        assert not model_dir.exists(), "the private model copy was not removed"
        return proc.returncode, stderr
    finally:  # whatever happened, leave no process behind
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid, _ in _tagged(tag):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def test_exception_inside_with_leaves_nothing(tmp_path: Path) -> None:
    rc, err = _run(tmp_path, "raise", in_process=True, sig=None)
    assert rc == 1 and "RuntimeError: boom" in err


def test_sigint_during_generation_in_process(tmp_path: Path) -> None:
    rc, err = _run(tmp_path, "generate", in_process=True, sig=signal.SIGINT)
    assert rc != 0 and "KeyboardInterrupt" in err


def test_sigint_multiprocess_engine(tmp_path: Path) -> None:
    rc, err = _run(tmp_path, "generate", in_process=False, sig=signal.SIGINT)
    assert rc != 0 and "KeyboardInterrupt" in err


def test_sigterm_multiprocess_engine(tmp_path: Path) -> None:
    rc, _ = _run(tmp_path, "idle", in_process=False, sig=signal.SIGTERM)
    assert rc != 0
