"""Scoring responses against gold answers for the integrations: one item, or many in a worker pool.

Every integration (TRL, verl, the HTTP reward server) scores through :func:`score_item`, a thin,
JSON-friendly wrapper around :func:`rlsp_env.rewards.score` (the env's reward channels and the
verifier; nothing is re-implemented here). :class:`ScoringPool` runs the same call in persistent
worker processes with a **per-item timeout that starts inside the worker**: time spent waiting in
the queue never counts, and a response that hangs the scorer is abandoned (its worker process is
killed and replaced) while the other items carry on in the other workers.

Example:
    >>> from rlsp_env.integrations.scoring import score_item
    >>> item = score_item("2 + 3 = 5, so \\\\boxed{5}", "5", weights="correctness")  # doctest: +SKIP
    >>> item.rewards["correctness"], item.verdict["correct"]  # doctest: +SKIP
    (1.0, True)
"""

from __future__ import annotations

import importlib
import math
import multiprocessing as mp
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ItemScore",
    "ScoringPool",
    "Weights",
    "env_default_weights",
    "item_from_result",
    "resolve_weights",
    "score_item",
    "timeout_result",
]

#: A weighting: a preset name of ``rlsp_env.rewards.PRESETS`` or an explicit ``{channel: weight}``.
Weights = str | Mapping[str, float]

#: The function the workers call; ``module:attribute`` so that spawned processes can import it.
DEFAULT_SCORER = "rlsp_env.rewards:score"


@dataclass(frozen=True)
class ItemScore:
    """The score of one response: the weighted scalar, every channel, and the verifier's verdict.

    Attributes:
        reward: the weighted scalar (the declared combination of the channels).
        rewards: every channel by name, including log-only ones (weight 0).
        verdict: the verifier's verdict as a dict (``correct``, ``extracted``, ``reason``,
            ``stage``).
        timed_out: True when the item ran out of time. Either the verifier's own deadline fired
            (the channels are computed, ``verdict["reason"] == "timeout"``), or the item was
            abandoned by the pool (its worker was killed, or died, or the scorer raised): then
            ``reward`` and every channel are 0.0 and ``verdict["reason"]`` says why.
        elapsed_s: seconds spent scoring inside the worker (0.0 for direct calls).
    """

    reward: float
    rewards: dict[str, float]
    verdict: dict[str, Any]
    timed_out: bool = False
    elapsed_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return {
            "reward": self.reward,
            "rewards": dict(self.rewards),
            "verdict": dict(self.verdict),
            "timed_out": self.timed_out,
            "elapsed_s": self.elapsed_s,
        }


def resolve_weights(weights: Weights | None) -> dict[str, float]:
    """Turns a preset name or a partial mapping into the full ``{channel: weight}`` dict.

    Delegates to :func:`rlsp_env.rewards.resolve_weights` (the one place that knows the channels
    and presets); errors are re-raised as ``ValueError`` with its message.

    Args:
        weights: a name of ``rlsp_env.rewards.PRESETS`` (``"rlsp"``, ``"correctness"``,
            ``"default"``, ...), a partial ``{channel: weight}`` mapping, or ``None`` (the
            ``"default"`` preset).

    Returns:
        Every channel with its weight; channels with weight 0 are logged, not optimised.

    Raises:
        ValueError: unknown preset or channel, or a weight that is not a finite number.

    Example:
        >>> w = resolve_weights({"correctness": 1.0})
        >>> w["correctness"], w["format"]
        (1.0, 0.0)
    """
    from rlsp_env import rewards

    try:
        return dict(rewards.resolve_weights(weights))
    except TypeError as e:
        raise ValueError(str(e)) from None


def env_default_weights(env_id: str) -> Any:
    """The reward weighting a registered env uses when none is given.

    Raises:
        ValueError: the id is not registered (the message lists the registered rlsp ids).

    Example:
        >>> env_default_weights("rlsp/Arithmetic-v0")  # doctest: +SKIP
        'default'
    """
    import inspect

    import gymnasium as gym

    import rlsp_env  # noqa: F401  (registers the ids)

    if env_id not in gym.registry:
        ids = sorted(k for k in gym.registry if k.startswith("rlsp/"))
        raise ValueError(f"unknown environment {env_id!r}; registered rlsp ids: {ids}")
    spec = gym.spec(env_id)
    if "reward_weights" in (spec.kwargs or {}):
        return spec.kwargs["reward_weights"]
    try:
        creator = gym.envs.registration.load_env_creator(spec.entry_point)
        param = inspect.signature(creator).parameters.get("reward_weights")
        if param is not None and param.default is not inspect.Parameter.empty:
            return param.default
    except Exception:
        pass
    return "default"


def _load(spec: str) -> Callable[..., Any]:
    module, _, attr = spec.partition(":")
    if not module or not attr:
        raise ValueError(f"scorer must be 'module:function', got {spec!r}")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    if not callable(obj):
        raise TypeError(f"{spec} is not callable")
    return obj


def _verdict_dict(verdict: Any) -> dict[str, Any]:
    if verdict is None:
        return {}
    if isinstance(verdict, Mapping):
        return dict(verdict)
    if hasattr(verdict, "to_dict"):
        return dict(verdict.to_dict())
    return dict(vars(verdict))


def item_from_result(result: Any, elapsed_s: float = 0.0) -> ItemScore:
    r"""Converts a ``rlsp_env.rewards.score`` result (a ``ScoreResult``) into an :class:`ItemScore`.

    Example:
        >>> from rlsp_env import rewards
        >>> item_from_result(rewards.score(r"\boxed{4}", "4", weights="correctness")).reward
        1.0
    """
    rewards = {str(k): float(v) for k, v in dict(result.rewards).items()}
    verdict = _verdict_dict(result.verdict)
    return ItemScore(
        reward=float(result.reward),
        rewards=rewards,
        verdict=verdict,
        # the verifier's own (cooperative) deadline fired: the channels are computed, the
        # verdict says "timeout"
        timed_out=verdict.get("reason") == "timeout",
        elapsed_s=elapsed_s,
    )


def score_item(
    response: str,
    gold: str,
    *,
    weights: Weights | None = None,
    scorer: str = DEFAULT_SCORER,
    timeout_s: float | None = 5.0,
) -> ItemScore:
    """Scores one response against a gold answer with the env's reward channels, in this process.

    Args:
        response: the model's text (the completion only, not the prompt).
        gold: the gold answer (a LaTeX string or number as the datasets write it).
        weights: a preset name of ``rlsp_env.rewards.PRESETS`` or ``{channel: weight}``
            (``None``: the ``"default"`` preset).
        scorer: ``module:function`` with the signature of ``rlsp_env.rewards.score``.
        timeout_s: the verifier's cooperative time budget (checked between its stages; for a
            hard limit use :class:`ScoringPool`).

    Returns:
        The weighted scalar, every channel and the verdict.

    Raises:
        TypeError: ``response`` or ``gold`` is not a string.

    Example:
        >>> item = score_item("so \\\\boxed{4}", "4", weights="correctness")  # doctest: +SKIP
        >>> item.verdict["correct"]  # doctest: +SKIP
        True
    """
    if not isinstance(response, str) or not isinstance(gold, str):
        raise TypeError(
            f"response and gold must be str, got {type(response).__name__} and {type(gold).__name__}"
        )
    fn = _load(scorer)
    w = resolve_weights(weights)
    return item_from_result(fn(response, gold, weights=w, timeout_s=timeout_s))


def timeout_result(reason: str = "timeout", elapsed_s: float = 0.0) -> ItemScore:
    """The result of an abandoned item: every channel 0.0 and a verdict that says why.

    Example:
        >>> timeout_result().verdict["reason"]
        'timeout'
    """
    return ItemScore(
        reward=0.0,
        rewards={},
        verdict={"correct": False, "extracted": None, "reason": reason, "stage": "timeout"},
        timed_out=True,
        elapsed_s=elapsed_s,
    )


# ---------------------------------------------------------------------------------------------
# The worker process


def _worker_main(conn: Any, scorer: str, weights: dict[str, float], inner_timeout_s: float) -> None:
    """Runs in a spawned process: receive (index, response, gold), reply start, then the result."""
    try:
        fn = _load(scorer)
    except BaseException as e:  # report the import failure to the parent, then exit
        conn.send(("fatal", f"{type(e).__name__}: {e}"))
        return
    try:
        # Warm up: the scorer imports parts of itself lazily (the verifier, sympy); that time must
        # not count against the first real item's timeout.
        fn("so \\boxed{1}", "1", weights=weights, timeout_s=inner_timeout_s)
    except Exception:
        pass  # a scorer that refuses this input still serves real ones
    conn.send(("ready", None))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        response, gold, group = msg
        t0 = time.perf_counter()
        conn.send(("start", None))
        try:
            extra = {"group": list(group)} if group else {}
            res = fn(response, gold, weights=weights, timeout_s=inner_timeout_s, **extra)
            res = item_from_result(res, time.perf_counter() - t0)
            conn.send(("ok", res.to_dict()))
        except Exception as e:
            conn.send(("error", f"{type(e).__name__}: {e}"))


@dataclass
class _Task:
    response: str
    gold: str
    group: tuple[str, ...] = ()
    future: Future = field(default_factory=Future)


class _Slot:
    """One worker process and the parent thread that feeds it, enforcing the per-item timeout."""

    def __init__(self, pool: ScoringPool, index: int) -> None:
        self.pool = pool
        self.index = index
        self.proc: Any = None
        self.conn: Any = None
        self.ready = False  # the worker has started and warmed up
        self.thread = threading.Thread(target=self._run, name=f"rlsp-scoring-{index}", daemon=True)

    def start_process(self) -> None:
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe(duplex=True)
        proc = ctx.Process(
            target=_worker_main,
            # The verifier's own deadline fires first (a proper "timeout" verdict with every
            # channel computed); killing the worker is the backstop for anything that hangs.
            args=(child, self.pool.scorer, self.pool.weights, 0.8 * self.pool.timeout_s),
            name=f"rlsp-scoring-worker-{self.index}",
            daemon=True,
        )
        proc.start()
        child.close()
        self.proc, self.conn = proc, parent
        # Wait for the worker to import the scorer, so that its import time never counts against
        # an item's timeout.
        if not parent.poll(self.pool.start_timeout_s):
            self.kill()
            raise RuntimeError(
                f"scoring worker did not start within {self.pool.start_timeout_s:.0f} s"
            )
        kind, payload = parent.recv()
        if kind != "ready":
            self.kill()
            raise RuntimeError(f"scoring worker failed to start: {payload}")
        self.ready = True

    def kill(self) -> None:
        self.ready = False
        if self.proc is not None and self.proc.is_alive():
            self.proc.kill()
            self.proc.join(5)
        if self.conn is not None:
            self.conn.close()
        self.proc, self.conn = None, None

    def _run(self) -> None:
        pool = self.pool
        while True:
            task = pool._tasks.get()
            if task is None:
                return
            if not task.future.set_running_or_notify_cancel():
                continue
            try:
                result = self._score(task)
            except Exception as e:  # e.g. a replacement worker failed to start
                pool._count("errors")
                result = timeout_result(f"error: {type(e).__name__}: {e}")
            except BaseException as e:  # never leave a caller waiting forever
                task.future.set_exception(e)
                raise
            task.future.set_result(result)
            if self.proc is None and not pool._closed:
                # Replace an abandoned worker now, not when the next item arrives.
                try:
                    self.start_process()
                except Exception:
                    pass  # retried (and reported to the caller) with the next item

    def _score(self, task: _Task) -> ItemScore:
        pool = self.pool
        if self.proc is None or not self.proc.is_alive():
            self.start_process()
        try:
            self.conn.send((task.response, task.gold, task.group))
            # The clock starts when the worker says it has begun this item.
            if not self.conn.poll(pool.start_timeout_s):
                raise EOFError("worker did not acknowledge the item")
            kind, _ = self.conn.recv()
            started = time.perf_counter()
            if self.conn.poll(pool.timeout_s):
                kind, payload = self.conn.recv()
                if kind == "ok":
                    return ItemScore(**payload)
                pool._count("errors")
                return timeout_result(f"error: {payload}", time.perf_counter() - started)
            pool._count("timeouts")
            self.kill()  # abandon the hung item; a fresh worker takes the next one
            return timeout_result("timeout", time.perf_counter() - started)
        except (EOFError, OSError, BrokenPipeError):
            pool._count("worker_deaths")
            self.kill()
            return timeout_result("worker_died")


class ScoringPool:
    """Persistent worker processes that score ``(response, gold)`` pairs with a per-item timeout.

    The timeout of an item starts when a worker begins it (queueing time never counts). A response
    that exceeds it is abandoned: its worker process is killed and restarted, the item gets
    :func:`timeout_result`, and the other items are unaffected. Thread-safe: many threads (or an
    asyncio server, through :meth:`submit`) may share one pool.

    Args:
        weights: a preset name of ``rlsp_env.rewards.PRESETS`` or ``{channel: weight}``
            (``None``: ``"default"``).
        workers: number of worker processes (default 2).
        timeout_s: per-item limit in seconds, measured inside the worker. The verifier gets 80%
            of it as its own cooperative budget; the pool kills a worker at 100%.
        scorer: ``module:function`` with the signature of ``rlsp_env.rewards.score``.
        start_timeout_s: how long a worker may take to start (import the scorer).

    Example:
        >>> with ScoringPool("correctness", workers=1, timeout_s=5) as pool:  # doctest: +SKIP
        ...     items = pool.map([("so \\\\boxed{4}", "4"), ("no idea", "4")])
        >>> [it.verdict["correct"] for it in items]  # doctest: +SKIP
        [True, False]
    """

    def __init__(
        self,
        weights: Weights | None = None,
        *,
        workers: int = 2,
        timeout_s: float = 5.0,
        scorer: str = DEFAULT_SCORER,
        start_timeout_s: float = 120.0,
    ) -> None:
        if not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive int, got {workers!r}")
        if not (isinstance(timeout_s, int | float) and timeout_s > 0 and math.isfinite(timeout_s)):
            raise ValueError(f"timeout_s must be a positive number, got {timeout_s!r}")
        self.weights = resolve_weights(weights)
        self.scorer = scorer
        _load(scorer)  # fail here, with a clear message, if the scorer cannot be imported
        self.workers = workers
        self.timeout_s = float(timeout_s)
        self.start_timeout_s = float(start_timeout_s)
        self.stats: dict[str, int] = {"timeouts": 0, "errors": 0, "worker_deaths": 0}
        self._stats_lock = threading.Lock()
        self._tasks: queue.Queue[_Task | None] = queue.Queue()
        self._closed = False
        self._slots = [_Slot(self, i) for i in range(workers)]
        for slot in self._slots:
            slot.start_process()
        for slot in self._slots:
            slot.thread.start()

    def _count(self, key: str) -> None:
        with self._stats_lock:
            self.stats[key] += 1

    def alive(self) -> int:
        """How many workers are ready now (fewer while a killed one is being replaced)."""
        n = 0
        for slot in self._slots:
            proc = slot.proc  # read once: the slot's thread may replace it meanwhile
            n += int(slot.ready and proc is not None and proc.is_alive())
        return n

    def submit(self, response: str, gold: str, group: Sequence[str] = ()) -> Future:
        """Queues one pair; returns a ``concurrent.futures.Future`` of its :class:`ItemScore`.

        Args:
            response: the response text.
            gold: the gold answer.
            group: the other responses to the same problem (for the ``diversity`` channel).
        """
        if self._closed:
            raise RuntimeError("ScoringPool is closed")
        if not isinstance(response, str) or not isinstance(gold, str):
            raise TypeError(
                f"response and gold must be str, got {type(response).__name__} and {type(gold).__name__}"
            )
        task = _Task(response, gold, tuple(str(g) for g in group))
        self._tasks.put(task)
        return task.future

    def map(self, pairs: Sequence[tuple[str, str]]) -> list[ItemScore]:
        """Scores ``(response, gold)`` pairs; results in input order, never raises per item."""
        futures = [self.submit(r, g) for r, g in pairs]
        return [f.result() for f in futures]

    def close(self) -> None:
        """Finishes the queued items, stops the workers and joins their threads. Idempotent."""
        if self._closed:
            return
        self._closed = True
        for _ in self._slots:
            self._tasks.put(None)
        for slot in self._slots:
            slot.thread.join()
            if slot.conn is not None:
                try:
                    slot.conn.send(None)
                except (OSError, BrokenPipeError):
                    pass
            if slot.proc is not None:
                slot.proc.join(5)
            slot.kill()

    def __enter__(self) -> ScoringPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
