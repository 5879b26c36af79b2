"""Checking many pairs in persistent worker processes, with a hard per-item timeout.

Each worker is a plain subprocess (``python -m rlsp_verifiers._worker``) speaking JSON lines over
its pipes: no ``multiprocessing`` re-import of ``__main__``, no ``signal.alarm``, safe to use from
any thread. An item's clock starts when the worker acknowledges it; a worker that overruns
``timeout_s`` (plus a small grace) is killed and replaced, its item gets ``reason="timeout"``, and
the other items are unaffected. Results come back in input order.

:meth:`VerifierPool.map` may be called from several threads at once: each call takes the idle
workers it needs (at least one, waiting for one when all are busy) and returns them when done, so
concurrent one-item calls run side by side (the reward server hands items over one at a time
this way). ``nice`` lowers the workers' CPU priority (``os.nice`` in each worker at start-up).
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import threading
import time
import weakref
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from typing import Any

from .api import ANSWER_POLICIES, MODES, verify
from .verdict import Verdict

__all__ = ["VerifierPool", "verify_bounded", "verify_many"]

#: Seconds a worker may take to start (import sympy) before it counts as broken.
STARTUP_TIMEOUT_S = 600.0
#: Extra seconds after ``timeout_s`` before a worker is killed (its own deadline fires first).
GRACE_S = 0.5
#: Times an item is handed out again after its worker died before acknowledging it (the item
#: never ran there, so the death says nothing about it); past this it is ``worker_died``.
MAX_UNSTARTED_RESENDS = 2


class _Worker:
    def __init__(self, nice: int = 0) -> None:
        env = dict(os.environ)
        env.setdefault("PYTHONHASHSEED", "0")
        # the worker imports this package: make it importable even when it is not installed
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rlsp_verifiers._worker",
                *(["--nice", str(nice)] if nice else []),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        assert self.proc.stdout is not None and self.proc.stdin is not None
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.buf = b""
        self.ready = False
        self.started = time.monotonic()
        self.item: int | None = None
        self.acked_at: float | None = None
        self.sent_at: float | None = None

    def send(
        self, idx: int, response: str, gold: str, mode: str, timeout_s: float, policy: str
    ) -> None:
        msg = json.dumps(
            {"id": idx, "r": response, "g": gold, "m": mode, "t": timeout_s, "p": policy}
        )
        assert self.proc.stdin is not None
        self.proc.stdin.write(msg.encode() + b"\n")
        self.proc.stdin.flush()
        self.item = idx
        self.sent_at = time.monotonic()
        self.acked_at = None

    def read_lines(self) -> list[dict[str, Any]] | None:
        """New messages; None at EOF (the worker died)."""
        assert self.proc.stdout is not None
        try:
            chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
        except BlockingIOError:
            return []
        if not chunk:
            return None
        self.buf += chunk
        *lines, self.buf = self.buf.split(b"\n")
        return [json.loads(line) for line in lines if line.strip()]

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - kill is not ignorable
            pass
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass


def _shutdown(workers: list[_Worker]) -> None:
    for w in workers:
        try:
            if w.proc.stdin is not None:
                w.proc.stdin.close()
        except OSError:
            pass
    deadline = time.monotonic() + 2.0
    for w in workers:
        try:
            w.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        w.kill()
    workers.clear()


class VerifierPool:
    """Persistent verifier worker processes with a hard per-item timeout.

    Args:
        workers: number of processes (default: the CPU count, at most 8).
        timeout_s: per-item budget in seconds; starts inside the worker.
        mode: ``"strict"`` or ``"eval"`` (see :func:`rlsp_verifiers.verify`).
        answer_policy: ``"closed_form"`` or ``"literal"`` (see :func:`rlsp_verifiers.verify`).
        nice: a ``nice`` increment (0..19) each worker applies to itself at start-up, so that
            verification on busy cores never slows the calling process (0: unchanged).

    Example:
        >>> with VerifierPool(workers=1, timeout_s=5) as pool:
        ...     [v.correct for v in pool.map([("\\\\boxed{2}", "2"), ("\\\\boxed{3}", "2")])]
        [True, False]
    """

    def __init__(
        self,
        workers: int | None = None,
        timeout_s: float = 5.0,
        mode: str = "strict",
        answer_policy: str = "closed_form",
        nice: int = 0,
    ):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if answer_policy not in ANSWER_POLICIES:
            raise ValueError(
                f"answer_policy must be one of {ANSWER_POLICIES}, got {answer_policy!r}"
            )
        if workers is None:
            workers = min(os.cpu_count() or 1, 8)
        if not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive int, got {workers!r}")
        if not (isinstance(timeout_s, (int, float)) and timeout_s > 0):
            raise ValueError(f"timeout_s must be a positive number, got {timeout_s!r}")
        if isinstance(nice, bool) or not isinstance(nice, int) or not 0 <= nice <= 19:
            raise ValueError(f"nice must be an int in 0..19, got {nice!r}")
        self.n = workers
        self.timeout_s = float(timeout_s)
        self.mode = mode
        self.answer_policy = answer_policy
        self.nice = nice
        self._workers: list[_Worker] = [_Worker(nice) for _ in range(workers)]
        self._lock = threading.Lock()  # guards _busy and restarts
        self._idle = threading.Condition(self._lock)
        self._busy: set[int] = set()
        self._closed = False
        self._finalizer = weakref.finalize(self, _shutdown, self._workers)
        #: how many workers were killed and replaced (timeouts, crashes) so far
        self.restarts = 0
        self._startup_failures = 0

    def __enter__(self) -> VerifierPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stops every worker process (idempotent)."""
        with self._lock:
            self._closed = True
            self._idle.notify_all()
        self._finalizer()

    def alive(self) -> int:
        """How many worker processes are running now (0 once closed); an idle worker found dead
        (killed from outside) is replaced first, as its next item would replace it."""
        if self._closed:
            return 0
        self._heal()
        return sum(w.proc.poll() is None for w in list(self._workers))

    def _heal(self) -> None:
        with self._lock:
            if self._closed:
                return
            dead = [
                k
                for k in range(self.n)
                if k not in self._busy and self._workers[k].proc.poll() is not None
            ]
            self._busy.update(dead)
        for k in dead:
            try:
                self._replace(k)
            finally:
                self._checkin([k])

    def _replace(self, k: int) -> None:
        self._workers[k].kill()
        self._workers[k] = _Worker(self.nice)
        with self._lock:
            self.restarts += 1

    def _checkout(self, want: int) -> list[int]:
        """Takes up to ``want`` idle workers (ready ones first), waiting while none is idle."""
        with self._idle:
            while True:
                if self._closed:
                    raise RuntimeError("VerifierPool is closed")
                free = [k for k in range(self.n) if k not in self._busy]
                if free:
                    free.sort(key=lambda k: not self._workers[k].ready)
                    taken = free[:want]
                    self._busy.update(taken)
                    return taken
                self._idle.wait()

    def _checkin(self, ks: list[int]) -> None:
        with self._idle:
            self._busy.difference_update(ks)
            self._idle.notify_all()

    def map(
        self,
        pairs: Sequence[tuple[str, str]],
        progress: Any = None,
        *,
        mode: str | None = None,
        answer_policy: str | None = None,
        timeout_s: float | None = None,
    ) -> list[Verdict]:
        """Checks every ``(response, gold)`` pair; verdicts in input order.

        Args:
            pairs: the pairs to check. Non-``str`` members give ``reason="invalid_input"``.
            progress: optional callable called with the number of newly finished items.
            mode, answer_policy, timeout_s: override the pool's settings for this call.

        Returns:
            One :class:`Verdict` per pair.
        """
        if self._closed:
            raise RuntimeError("VerifierPool is closed")
        mode = self.mode if mode is None else mode
        policy = self.answer_policy if answer_policy is None else answer_policy
        timeout = self.timeout_s if timeout_s is None else float(timeout_s)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if policy not in ANSWER_POLICIES:
            raise ValueError(f"answer_policy must be one of {ANSWER_POLICIES}, got {policy!r}")
        if not timeout > 0:
            raise ValueError(f"timeout_s must be a positive number, got {timeout_s!r}")
        pairs = list(pairs)
        results: list[Verdict | None] = [None] * len(pairs)
        todo: deque[int] = deque()
        for i, p in enumerate(pairs):
            if (
                not isinstance(p, (tuple, list))
                or len(p) != 2
                or not isinstance(p[0], str)
                or not isinstance(p[1], str)
            ):
                results[i] = Verdict(False, None, "invalid_input", "input")
                if progress:
                    progress(1)
            else:
                todo.append(i)
        if todo:
            self._heal()
            ks = self._checkout(len(todo))
            try:
                self._run(pairs, results, todo, progress, (mode, policy, timeout), ks)
            finally:
                self._checkin(ks)
        return [
            r if r is not None else Verdict(False, None, "internal_error", "input") for r in results
        ]

    def _run(
        self,
        pairs: list[Any],
        results: list[Verdict | None],
        todo: deque[int],
        progress: Any,
        settings: tuple[str, str, float],
        ks: list[int],
    ) -> None:
        mode, policy, timeout_s = settings
        pending = len(todo)

        def settle(i: int, verdict: Verdict) -> None:
            nonlocal pending
            results[i] = verdict
            pending -= 1
            if progress:
                progress(1)

        unstarted: Counter[int] = Counter()  # deaths of a worker sent the item before its ack
        sel = selectors.DefaultSelector()
        try:
            while pending:
                now = time.monotonic()
                # hand out work, enforce deadlines
                for k in ks:
                    w = self._workers[k]
                    if w.item is not None:
                        start = w.acked_at
                        if start is not None and now - start > timeout_s + GRACE_S:
                            settle(w.item, Verdict(False, None, "timeout", "timeout"))
                            self._replace(k)
                            continue
                        if (
                            start is None
                            and w.sent_at is not None
                            and now - w.sent_at > STARTUP_TIMEOUT_S
                        ):
                            todo.appendleft(w.item)
                            self._replace(k)
                            continue
                    elif not w.ready and now - w.started > STARTUP_TIMEOUT_S:
                        # alive but silent (a machine loaded far past its cores): start it anew;
                        # give up only when starting keeps failing
                        self._startup_failures += 1
                        if self._startup_failures > 3:
                            raise RuntimeError(
                                "verifier workers fail to start (no 'ready' within "
                                f"{STARTUP_TIMEOUT_S:.0f} s, {self._startup_failures} times)"
                            )
                        self._replace(k)
                        continue
                for k in ks:
                    w = self._workers[k]
                    if w.ready and w.item is None and todo:
                        i = todo.popleft()
                        r, g = pairs[i]
                        try:
                            w.send(i, r, g, mode, timeout_s, policy)
                        except (BrokenPipeError, OSError):
                            todo.appendleft(i)
                if not pending:
                    break
                # wait for messages until the nearest deadline
                waits = [1.0]
                for k in ks:
                    w = self._workers[k]
                    if w.item is not None and w.acked_at is not None:
                        waits.append(w.acked_at + timeout_s + GRACE_S - now)
                sel_map = {}
                for k in ks:
                    w = self._workers[k]
                    assert w.proc.stdout is not None
                    fd = w.proc.stdout.fileno()
                    sel.register(fd, selectors.EVENT_READ, k)
                    sel_map[fd] = k
                events = sel.select(timeout=max(0.01, min(waits)))
                for fd in list(sel_map):
                    sel.unregister(fd)
                for key, _ in events:
                    k = key.data
                    w = self._workers[k]
                    msgs = w.read_lines()
                    if msgs is None:  # died
                        if not w.ready:
                            self._startup_failures += 1
                            if self._startup_failures > 3:
                                raise RuntimeError("verifier workers fail to start")
                        if w.item is not None:
                            if w.acked_at is None and unstarted[w.item] < MAX_UNSTARTED_RESENDS:
                                # it died before starting the item (killed from outside, or
                                # while idle): the item is not to blame; hand it out again
                                unstarted[w.item] += 1
                                todo.appendleft(w.item)
                            else:
                                settle(w.item, Verdict(False, None, "worker_died", "timeout"))
                        self._replace(k)
                        continue
                    for m in msgs:
                        if "ready" in m:
                            w.ready = True
                        elif "ack" in m:
                            if m["ack"] == w.item:
                                w.acked_at = time.monotonic()
                        elif "id" in m and m["id"] == w.item:
                            settle(w.item, Verdict.from_dict(m["v"]))
                            w.item = None
        finally:
            sel.close()


def verify_many(
    pairs: Iterable[tuple[str, str]],
    *,
    workers: int | None = None,
    timeout_s: float = 5.0,
    mode: str = "strict",
    answer_policy: str = "closed_form",
) -> list[Verdict]:
    """Checks many ``(response, gold)`` pairs in a worker pool; verdicts in input order.

    Each item has its own hard timeout that starts inside its worker; one poisoned item never
    slows or breaks the others. ``workers=0`` checks in this process instead (cooperative
    timeout only).

    Example:
        >>> vs = verify_many([("\\\\boxed{1/2}", "0.5"), ("\\\\boxed{7}", "8")], workers=1)
        >>> [(v.correct, v.reason) for v in vs]
        [(True, 'equal'), (False, 'not_equal')]
    """
    pairs = list(pairs)
    if workers == 0:
        out = []
        for p in pairs:
            if not (isinstance(p, (tuple, list)) and len(p) == 2):
                out.append(Verdict(False, None, "invalid_input", "input"))
                continue
            out.append(
                verify(p[0], p[1], mode=mode, timeout_s=timeout_s, answer_policy=answer_policy)  # type: ignore[arg-type]
            )
        return out
    if not pairs:
        return []
    n = workers if workers is not None else min(os.cpu_count() or 1, 8, len(pairs))
    with VerifierPool(
        workers=n, timeout_s=timeout_s, mode=mode, answer_policy=answer_policy
    ) as pool:
        return pool.map(pairs)


_BOUNDED: VerifierPool | None = None
_BOUNDED_LOCK = threading.Lock()


def _bounded_pool() -> VerifierPool:
    global _BOUNDED
    with _BOUNDED_LOCK:
        if _BOUNDED is None or _BOUNDED._closed:
            _BOUNDED = VerifierPool(workers=1)
        return _BOUNDED


def verify_bounded(
    response: str,
    gold: str,
    *,
    mode: str = "strict",
    answer_policy: str = "closed_form",
    timeout_s: float = 5.0,
    pool: VerifierPool | None = None,
) -> Verdict:
    """:func:`rlsp_verifiers.verify` with a hard wall-clock bound, for in-process callers.

    The check runs in a :class:`VerifierPool` worker process (by default one shared,
    process-wide worker, started on first use and stopped at exit); a worker that overruns
    ``timeout_s`` + 0.5 s is killed and replaced, and the verdict is ``reason="timeout"``.
    Once the worker is started, a call returns within ``timeout_s`` + 0.5 s (plus pipe
    latency) whatever the input; the first call also waits for the worker to import sympy
    (about a second; call it once at start-up to pay that early). Thread-safe: calls from
    several threads are served one at a time by the shared worker (pass ``pool`` for more).

    Args:
        response, gold, mode, answer_policy: as for :func:`rlsp_verifiers.verify`.
        timeout_s: the per-check bound in seconds.
        pool: a pool to use instead of the shared one.

    Returns:
        A :class:`Verdict`; ``reason="timeout"`` when the bound was hit.

    Example:
        >>> verify_bounded("\\\\boxed{2^{10}}", "1024").correct
        True
        >>> verify_bounded("\\\\boxed{23+45}", "68", answer_policy="literal").reason
        'unevaluated'
    """
    p = pool if pool is not None else _bounded_pool()
    return p.map([(response, gold)], mode=mode, answer_policy=answer_policy, timeout_s=timeout_s)[0]
