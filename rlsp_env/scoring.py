"""The one batch scorer: responses and problems in, every channel and the verdict out.

:func:`score_batch` is behind every door that scores: ``env.step``, the vector env, TRL's reward
functions, verl's ``compute_score`` and the HTTP server. For a batch it

1. reads each response once (:func:`rlsp_env.text.read_response`: the verifier's extraction);
2. verifies every distinct (response, gold) pair in a :class:`rlsp_verifiers.VerifierPool` (worker processes with a hard
   per-item timeout: no response can hold a batch longer than ``spec.timeout_s`` plus a grace),
   or, with ``inline=True``, in this process (a cooperative timeout only);
3. calls the effort judge once for the batch (when ``effort`` has a weight);
4. works out each group's other responses once (and their trigrams once);
5. runs every registered channel (:data:`rlsp_env.rewards.CHANNELS`) and the declared weighted sum.

Example:
    >>> from rlsp_env.spec import RewardSpec
    >>> out = score_batch(["\\\\boxed{4} a b c", "\\\\boxed{5} w x y"], ["4", "4"], [0, 0],
    ...                   RewardSpec(weights="correctness"), inline=True)
    >>> [r.rewards["correctness"] for r in out], [r.rewards["diversity"] for r in out]
    ([1.0, 0.0], [1.0, 1.0])
"""

from __future__ import annotations

import functools
import inspect
import os
import threading
import warnings
from collections.abc import Hashable, Sequence
from typing import Any

from rlsp_env.problem import Problem
from rlsp_env.rewards import CHANNELS, ChannelInput, ScoreResult, combine
from rlsp_env.spec import RewardSpec
from rlsp_env.text import effective_length, read_response

__all__ = [
    "close_shared_pools",
    "group_members",
    "make_pool",
    "score_batch",
    "shared_pool",
    "verifier_options",
]


def verifier_options(spec: RewardSpec, fn: Any = None) -> dict[str, Any]:
    """The spec's verifier settings that ``fn`` (default :func:`rlsp_verifiers.verify`) accepts.

    The one place that passes ``answer_policy`` on: only to a verifier whose signature takes it.

    Example:
        >>> verifier_options(RewardSpec(), lambda response, gold, *, mode: None)
        {'mode': 'strict'}
    """
    if fn is None:
        from rlsp_verifiers import verify as fn
    opts: dict[str, Any] = {"mode": spec.verifier_mode}
    if _takes_answer_policy(fn):
        opts["answer_policy"] = spec.answer_policy
    return opts


@functools.lru_cache(maxsize=16)
def _takes_answer_policy(fn: Any) -> bool:
    return "answer_policy" in inspect.signature(fn).parameters


def make_pool(spec: RewardSpec, workers: int, *, nice: int = 0) -> Any:
    """A :class:`rlsp_verifiers.VerifierPool` of ``workers`` processes set up as the spec says
    (its timeout, mode and answer policy), at a CPU priority lowered by ``nice``; the caller
    closes it."""
    from rlsp_verifiers import VerifierPool, verify

    if _takes_answer_policy(verify) and not _takes_answer_policy(VerifierPool):
        warnings.warn(
            "rlsp_verifiers.verify takes answer_policy but VerifierPool does not: the pool "
            f"verifies without the spec's answer_policy={spec.answer_policy!r}",
            stacklevel=2,
        )
    opts = verifier_options(spec, VerifierPool)
    if nice:
        opts["nice"] = nice
    return VerifierPool(workers=workers, timeout_s=spec.timeout_s, **opts)


_SHARED: dict[tuple, Any] = {}
_SHARED_LOCK = threading.Lock()


def shared_pool(spec: RewardSpec) -> Any:
    """This process's one-worker :class:`rlsp_verifiers.VerifierPool` for the spec's verifier
    settings, started on first use and stopped at exit (or by :func:`close_shared_pools`).

    Single environments and one-item integration calls (verl's ``compute_score``) share it, so
    each call is bounded in wall-clock time without starting a process per call.
    """
    from rlsp_verifiers import VerifierPool

    opts = verifier_options(spec, VerifierPool)
    key = (os.getpid(), spec.timeout_s, *sorted(opts.items()))
    with _SHARED_LOCK:
        pool = _SHARED.get(key)
        if pool is None:
            pool = make_pool(spec, 1)
            _SHARED[key] = pool
        return pool


def close_shared_pools() -> None:
    """Stops the pools :func:`shared_pool` started in this process."""
    with _SHARED_LOCK:
        pools = list(_SHARED.values())
        _SHARED.clear()
    for p in pools:
        p.close()


def _as_problem(p: Any, i: int) -> Problem:
    if isinstance(p, Problem):
        return p
    if isinstance(p, str):
        return Problem(id=f"gold/{i}", problem="", answer=p)
    raise TypeError(f"problem {i} must be a Problem or a gold answer str, got {type(p).__name__}")


def _verify(pairs: list[tuple[str, str]], spec: RewardSpec, pool: Any, inline: bool) -> list[Any]:
    distinct = list(dict.fromkeys(pairs))  # a group often repeats a response: verify it once
    if len(distinct) < len(pairs):
        found = dict(zip(distinct, _verify(distinct, spec, pool, inline)))
        return [found[p] for p in pairs]
    if inline:
        from rlsp_verifiers import verify

        opts = verifier_options(spec, verify)
        return [verify(r, g, timeout_s=spec.timeout_s, **opts) for r, g in pairs]
    if pool is None:
        pool = shared_pool(spec)
    policy = getattr(pool, "answer_policy", spec.answer_policy)  # pools that apply one say so
    if (pool.mode, pool.timeout_s, policy) != (
        spec.verifier_mode,
        spec.timeout_s,
        spec.answer_policy,
    ):
        raise ValueError(
            f"the verifier pool (mode={pool.mode!r}, timeout_s={pool.timeout_s}) does not match "
            f"the reward spec (mode={spec.verifier_mode!r}, timeout_s={spec.timeout_s})"
        )
    return pool.map(pairs)


def group_members(groups: Sequence[Hashable]) -> list[list[int]]:
    """For each response, the indices of the other responses that share its group id.

    Example:
        >>> group_members(["a", "b", "a"])
        [[2], [], [0]]
    """
    members: dict[Hashable, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    return [[j for j in members[g] if j != i] for i, g in enumerate(groups)]


def score_batch(
    responses: Sequence[str],
    problems: Sequence[Problem | str],
    groups: Sequence[Hashable] | None = None,
    spec: RewardSpec | None = None,
    *,
    judge: Any = None,
    pool: Any = None,
    inline: bool = False,
    others: Sequence[Sequence[str]] | None = None,
    verdicts: Sequence[Any] | None = None,
) -> list[ScoreResult]:
    """Scores a batch of responses on every channel; results in input order.

    Args:
        responses: the response texts.
        problems: one :class:`Problem` (or gold answer string) per response.
        groups: one hashable group id per response (``None``: no groups); responses sharing an id
            are each other's group for the ``diversity`` channel.
        spec: the :class:`~rlsp_env.spec.RewardSpec` (``None``: the default spec).
        judge: an effort judge (:mod:`rlsp_env.judge`), called once for the batch when ``effort``
            has a weight. It sees the problem text and the response, never the gold.
        pool: a running :class:`rlsp_verifiers.VerifierPool` whose mode and timeout match the spec
            (``None``: this process's :func:`shared_pool`).
        inline: verify in this process instead (a cooperative timeout only).
        others: instead of ``groups``, each response's group members given explicitly (texts that
            are not themselves scored).
        verdicts: the verdicts of these (response, gold) pairs, already checked in a
            :class:`rlsp_verifiers.VerifierPool` with the spec's mode, timeout and answer policy
            (the reward server verifies item by item under its fair scheduler, then scores the
            request here); ``pool`` and ``inline`` are not used then.

    Returns:
        One :class:`~rlsp_env.rewards.ScoreResult` per response: ``reward``, ``rewards``
        (every channel), ``verdict``, ``weights`` and ``info`` (``ell``, ``effort_judged``).

    Raises:
        TypeError: a response that is not a ``str``, a problem of the wrong type.
        ValueError: lengths that differ, a pool that does not match the spec.
    """
    spec = RewardSpec() if spec is None else spec
    if not isinstance(spec, RewardSpec):
        raise TypeError(f"spec must be a RewardSpec, got {type(spec).__name__}")
    responses = list(responses)
    n = len(responses)
    if len(problems) != n:
        raise ValueError(f"{n} responses for {len(problems)} problems")
    for i, r in enumerate(responses):
        if not isinstance(r, str):
            raise TypeError(f"response {i} must be a str, got {type(r).__name__}")
    probs = [_as_problem(p, i) for i, p in enumerate(problems)]
    if others is not None:
        if groups is not None or len(others) != n:
            raise ValueError("give groups or one list of others per response, not both")
        group_texts = [tuple(o) for o in others]
    else:
        if groups is not None and len(groups) != n:
            raise ValueError(f"groups must have one entry per response: {len(groups)} for {n}")
        members = group_members(groups) if groups is not None else [[] for _ in range(n)]
        group_texts = [tuple(responses[j] for j in m) for m in members]
    readings = [read_response(r) for r in responses]
    if verdicts is None:
        pairs = [(r, p.answer) for r, p in zip(responses, probs)]
        verdicts = _verify(pairs, spec, pool, inline)
    elif len(verdicts) != n:
        raise ValueError(f"{len(verdicts)} verdicts for {n} responses")
    verdicts = list(verdicts)
    judged: list[Any] = [None] * n
    if judge is not None and spec.weights["effort"] != 0.0 and n:
        judged = list(judge.grade_many([(p.problem, r) for p, r in zip(probs, responses)]))
    tokenizer = spec.token_counter()
    weights = dict(spec.weights)
    inputs = [
        ChannelInput(readings[i], probs[i], verdicts[i], spec, tokenizer, group_texts[i])
        for i in range(n)
    ]
    by_text = {x.response: x for x in inputs}  # one trigram set per distinct text
    out = []
    for i, x in enumerate(inputs):
        x.judge_result = judged[i]
        x.group_shingles = tuple(
            by_text[t].shingles if t in by_text else _shingles_of(t) for t in x.others
        )
        rewards = {name: float(c.fn(x)) for name, c in CHANNELS.items()}  # type: ignore[misc]
        info: dict[str, Any] = {
            "ell": effective_length(x.reading.reasoning, tokenizer),
            "effort_judged": bool(judged[i].ok) if judged[i] is not None else False,
        }
        if judged[i] is not None:
            info["effort_reason"] = judged[i].reason
        out.append(ScoreResult(combine(rewards, weights), rewards, verdicts[i], weights, info))
    return out


def _shingles_of(text: str) -> frozenset:
    from rlsp_env.text import shingles

    if not isinstance(text, str):
        raise TypeError(f"group response must be a str, got {type(text).__name__}")
    return shingles(text)
