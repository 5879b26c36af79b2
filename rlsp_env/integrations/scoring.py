"""What the integrations (TRL, verl, the HTTP reward server) share: a registered env's reward spec,
a JSON-friendly item result, and a thread-safe front to :func:`rlsp_env.scoring.score_batch`.

Nothing here scores by itself: every item goes through :func:`rlsp_env.scoring.score_batch` with
the env's :class:`~rlsp_env.spec.RewardSpec`, so the integrations give the channels ``env.step``
gives. :class:`ScoringPool` queues items from any number of threads (or an asyncio server, through
:meth:`ScoringPool.submit`) and scores whatever is queued as one batch in a
:class:`rlsp_verifiers.VerifierPool`: the hard per-item timeout is the verifier pool's (it starts
inside the worker; a worker that overruns is killed and replaced). The HTTP reward server does not
use it: it schedules items one at a time across requests (:class:`rlsp_env.server.ScoringBackend`).

Example:
    >>> spec = env_reward_spec("rlsp/Arithmetic-v0", reward_weights="correctness")
    >>> spec.answer_policy, spec.weights["correctness"]
    ('literal', 1.0)
    >>> item = score_item("2 + 3 = 5, so \\\\boxed{5}", "5", spec=spec, inline=True)
    >>> item.rewards["correctness"], item.verdict["correct"]
    (1.0, True)
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from rlsp_env.spec import RewardSpec

__all__ = [
    "ItemScore",
    "ScoringPool",
    "Weights",
    "env_default_weights",
    "env_reward_spec",
    "item_from_result",
    "resolve_weights",
    "score_item",
]

#: A weighting: a preset name of ``rlsp_env.rewards.PRESETS`` or an explicit ``{channel: weight}``.
Weights = str | Mapping[str, float]

#: the verdict reasons that mean the item's verification was abandoned
_ABANDONED = ("timeout", "worker_died")


@dataclass(frozen=True)
class ItemScore:
    """The score of one response: the weighted scalar, every channel, and the verifier's verdict.

    Attributes:
        reward: the weighted scalar (the declared combination of the channels).
        rewards: every channel by name, including log-only ones (weight 0).
        verdict: the verifier's verdict as a dict (``correct``, ``extracted``, ``reason``,
            ``stage``).
        timed_out: True when the verifier ran out of time on the item (its worker was killed at
            the hard bound, or died): ``verdict["reason"]`` says which; the other channels are
            computed as usual and correctness is 0.
    """

    reward: float
    rewards: dict[str, float]
    verdict: dict[str, Any]
    timed_out: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return {
            "reward": self.reward,
            "rewards": dict(self.rewards),
            "verdict": dict(self.verdict),
            "timed_out": self.timed_out,
        }


def resolve_weights(weights: Weights | None) -> dict[str, float]:
    """Turns a preset name or a partial mapping into the full ``{channel: weight}`` dict.

    Delegates to :func:`rlsp_env.rewards.resolve_weights`; its ``TypeError`` becomes a
    ``ValueError`` with the same message.

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


def env_reward_spec(env_id: str, **env_kwargs: Any) -> RewardSpec:
    """The :class:`RewardSpec` that ``gym.make(env_id, **env_kwargs)`` would hold, without
    loading its problems.

    Args:
        env_id: a registered id.
        **env_kwargs: any ``gym.make`` arguments; the reward ones (``reward_weights``,
            ``length_scale``, ``exploration_cap``, ``tokenizer``, ``verifier_mode``,
            ``verifier_timeout_s``, ``answer_policy``, ``reward_spec``) decide the spec.

    Raises:
        ValueError: the id is not registered (the message lists the registered rlsp ids), or a
            reward argument is invalid.
    """
    import gymnasium as gym

    import rlsp_env  # noqa: F401  (registers the ids)
    from rlsp_env.envs import REWARD_ARGS, make_reward_spec
    from rlsp_env.tasks import FAMILIES

    if env_id not in gym.registry:
        ids = sorted(k for k in gym.registry if k.startswith("rlsp/"))
        raise ValueError(f"unknown environment {env_id!r}; registered rlsp ids: {ids}")
    kwargs = {**(gym.spec(env_id).kwargs or {}), **env_kwargs}
    family = kwargs.get("family")
    policy = FAMILIES[family].answer_policy if family in FAMILIES else "closed_form"
    reward_kwargs = {k: v for k, v in kwargs.items() if k in REWARD_ARGS}
    return make_reward_spec(**reward_kwargs, default_policy=policy)


def env_default_weights(env_id: str) -> dict[str, float]:
    """The channel weights a registered env uses when none is given.

    Example:
        >>> env_default_weights("rlsp/Arithmetic-v0")["format"]
        1.0
    """
    return dict(env_reward_spec(env_id).weights)


def item_from_result(result: Any) -> ItemScore:
    r"""Converts a :class:`rlsp_env.rewards.ScoreResult` into an :class:`ItemScore`.

    Example:
        >>> from rlsp_env import rewards
        >>> item_from_result(rewards.score(r"\boxed{4}", "4", weights="correctness")).reward
        1.0
    """
    verdict = result.verdict.to_dict()
    return ItemScore(
        reward=float(result.reward),
        rewards={str(k): float(v) for k, v in result.rewards.items()},
        verdict=verdict,
        timed_out=verdict.get("reason") in _ABANDONED,
    )


def _check_pair(response: Any, gold: Any) -> None:
    if not isinstance(response, str) or not isinstance(gold, str):
        raise TypeError(
            f"response and gold must be str, got {type(response).__name__} and {type(gold).__name__}"
        )


def score_item(
    response: str,
    gold: str,
    *,
    spec: RewardSpec | None = None,
    group: Sequence[str] = (),
    inline: bool = False,
) -> ItemScore:
    """Scores one response against a gold answer with :func:`rlsp_env.scoring.score_batch`.

    Args:
        response: the model's text (the completion only, not the prompt).
        gold: the gold answer (a LaTeX string or number as the datasets write it).
        spec: the reward spec (``None``: the default spec); take an env's with
            :func:`env_reward_spec`.
        group: the other responses to the same problem (for the ``diversity`` channel).
        inline: verify in this process (cooperative timeout); default: this process's shared
            verifier pool (a hard time bound).

    Raises:
        TypeError: ``response`` or ``gold`` is not a string.
    """
    from rlsp_env.scoring import score_batch

    _check_pair(response, gold)
    res = score_batch([response], [gold], None, spec, inline=inline, others=[list(group)])
    return item_from_result(res[0])


@dataclass
class _Task:
    response: str
    gold: str
    group: tuple[str, ...]
    future: Future


class ScoringPool:
    """A thread-safe queue in front of :func:`rlsp_env.scoring.score_batch` and one
    :class:`rlsp_verifiers.VerifierPool`: whatever is queued is scored as one batch.

    Args:
        spec: the reward spec (``None``: ``RewardSpec(weights=weights, timeout_s=timeout_s)``).
        weights: a preset name or ``{channel: weight}`` (only without ``spec``).
        workers: verifier worker processes (default 2).
        timeout_s: the verifier's hard per-item bound (only without ``spec``).
        judge: an effort judge, called once per batch when ``effort`` has a weight.
        scorer: only ``None`` or ``"rlsp_env.rewards:score"`` (the one scorer), for old callers.

    Example:
        >>> with ScoringPool(RewardSpec(weights="correctness"), workers=1) as pool:
        ...     items = pool.map([("so \\\\boxed{4}", "4"), ("no idea", "4")])
        >>> [it.verdict["correct"] for it in items]
        [True, False]
    """

    def __init__(
        self,
        spec: RewardSpec | Weights | None = None,
        *,
        weights: Weights | None = None,
        workers: int = 2,
        timeout_s: float = 5.0,
        judge: Any = None,
        scorer: str | None = None,
    ) -> None:
        from rlsp_env.scoring import make_pool

        if scorer not in (None, "rlsp_env.rewards:score"):
            raise ValueError(
                f"custom scorers are gone (got {scorer!r}): every door scores with "
                "rlsp_env.scoring.score_batch; register a channel with rlsp_env.rewards.channel"
            )
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive int, got {workers!r}")
        if not isinstance(spec, RewardSpec):
            if spec is not None and weights is not None:
                raise ValueError("give the weights once")
            spec = RewardSpec(weights=spec if spec is not None else weights, timeout_s=timeout_s)
        self.spec = spec
        self.weights = dict(spec.weights)
        self.timeout_s = spec.timeout_s
        self.judge = judge
        self.workers = workers
        self._verifiers = make_pool(spec, workers)
        self._tasks: queue.Queue[_Task | None] = queue.Queue()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="rlsp-scoring", daemon=True)
        self._thread.start()

    @property
    def restarts(self) -> int:
        """How many verifier workers were killed and replaced (timeouts, crashes) so far."""
        return self._verifiers.restarts

    def alive(self) -> int:
        """How many verifier worker processes are running now (0 once closed)."""
        return 0 if self._closed else self._verifiers.alive()

    def _run(self) -> None:
        from rlsp_env.scoring import score_batch

        while True:
            first = self._tasks.get()
            if first is None:
                return
            batch, stop = [first], False
            while True:  # everything queued meanwhile joins this batch
                try:
                    t = self._tasks.get_nowait()
                except queue.Empty:
                    break
                if t is None:
                    stop = True
                    break
                batch.append(t)
            batch = [t for t in batch if t.future.set_running_or_notify_cancel()]
            try:
                results = score_batch(
                    [t.response for t in batch],
                    [t.gold for t in batch],
                    None,
                    self.spec,
                    judge=self.judge,
                    pool=self._verifiers,
                    others=[t.group for t in batch],
                )
                for t, r in zip(batch, results):
                    t.future.set_result(item_from_result(r))
            except BaseException as e:  # never leave a caller waiting
                for t in batch:
                    if not t.future.done():
                        t.future.set_exception(e)
            if stop:
                return

    def submit(self, response: str, gold: str, group: Sequence[str] = ()) -> Future:
        """Queues one pair; returns a ``concurrent.futures.Future`` of its :class:`ItemScore`.

        Args:
            response: the response text.
            gold: the gold answer.
            group: the other responses to the same problem (for the ``diversity`` channel).
        """
        if self._closed:
            raise RuntimeError("ScoringPool is closed")
        _check_pair(response, gold)
        fut: Future = Future()
        self._tasks.put(_Task(response, gold, tuple(str(g) for g in group), fut))
        return fut

    def map(self, pairs: Sequence[tuple[str, str]]) -> list[ItemScore]:
        """Scores ``(response, gold)`` pairs; results in input order."""
        futures = [self.submit(r, g) for r, g in pairs]
        return [f.result() for f in futures]

    def close(self) -> None:
        """Finishes the queued items, then stops the verifier workers. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._tasks.put(None)
        self._thread.join()
        self._verifiers.close()

    def __enter__(self) -> ScoringPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
