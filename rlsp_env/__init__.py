"""rlsp_env: Gymnasium math environments with separate reward channels.

``import rlsp_env`` registers every ``rlsp/...`` id (see :mod:`rlsp_env.registration`) and imports
neither torch nor an HTTP client. Every env holds one :class:`RewardSpec`
(``env.unwrapped.reward_spec``) and scores through :func:`score_batch`, as do the integrations.

Example:
    >>> import gymnasium as gym, rlsp_env
    >>> env = gym.make("rlsp/Arithmetic-v0", difficulty=1, split="test")
    >>> obs, info = env.reset(seed=0)
    >>> obs.endswith("within \\\\boxed{}.")
    True
    >>> demos = rlsp_env.make_problems("rlsp/Arithmetic-v0", 3, split="train")
    >>> len({p.id for p in demos}), demos[0].solution.splitlines()[-1].startswith("The final answer")
    (3, True)
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from rlsp_env import rewards
from rlsp_env.envs import EvalExhaustedError, MathEnv
from rlsp_env.problem import Problem
from rlsp_env.registration import DATASET_ENVS, ENV_IDS, PROCEDURAL_ENVS, env_kwargs
from rlsp_env.scoring import score_batch
from rlsp_env.spec import RewardSpec

__all__ = [
    "DATASET_ENVS",
    "ENV_IDS",
    "PROCEDURAL_ENVS",
    "EvalExhaustedError",
    "MathEnv",
    "Problem",
    "RewardSpec",
    "make_problems",
    "rewards",
    "score_batch",
]

_SOURCE_KWARGS = {"difficulty", "levels", "subjects", "data_dir", "num_problems"}


def make_problems(
    env_id: str,
    n: int | None = None,
    *,
    seed: int = 0,
    split: str | None = None,
    **env_kwargs_: Any,
) -> list[Problem]:
    """Returns ``n`` distinct problems of an environment (for SFT demonstrations or evaluation).

    Args:
        env_id: a registered id (``"rlsp/Arithmetic-v0"``; a ``"rlsp_env:"`` prefix is accepted).
        n: how many problems. Datasets: ``None`` (or ``n >= size``) gives all of them in source
            order, else a seeded sample of ``n`` kept in source order. Procedural: required; the
            first ``n`` distinct problems of the stream ``seed``.
        seed: the sample (datasets) or stream (procedural) seed.
        split: procedural ``"train"`` (default) or ``"test"`` (disjoint by content); datasets
            ``"all"`` (default), ``"train"`` or ``"test"`` (80/20 content-hash partition).
        **env_kwargs_: the env's source arguments (``difficulty``, ``levels``, ``subjects``,
            ``data_dir``, ``num_problems``); other ``gym.make`` arguments are accepted and unused.

    Raises:
        KeyError: unknown id. ValueError: bad ``n`` or filters, or too few distinct problems.
        TypeError: an argument ``gym.make`` would not accept either.

    Example:
        >>> ps = make_problems("rlsp/Fractions-v0", 2, split="test", difficulty=2)
        >>> [p.meta["split"] for p in ps]
        ['test', 'test']
    """
    env_id = env_id.split(":", 1)[1] if env_id.startswith("rlsp_env:") else env_id
    base = env_kwargs(env_id)
    allowed = set(inspect.signature(MathEnv.__init__).parameters) - {"self"}
    unknown = set(env_kwargs_) - allowed
    if unknown:
        raise TypeError(f"make_problems got unknown arguments {sorted(unknown)}")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1):
        raise ValueError(f"n must be a positive integer or None, got {n!r}")
    src_kwargs = {k: v for k, v in env_kwargs_.items() if k in _SOURCE_KWARGS}
    if "family" in base:
        if n is None:
            raise ValueError(f"{env_id} is an unbounded procedural stream: give n")
        src = MathEnv(**base, split=split, problem_seed=int(seed), **src_kwargs).source
        out: list[Problem] = []
        seen: set[str] = set()
        limit = min(len(src), 50 * int(n) + 1000)
        for i in range(limit):
            p = src.get(i)
            if p.id not in seen:
                seen.add(p.id)
                out.append(p)
                if len(out) == n:
                    return out
        raise ValueError(
            f"{env_id}: only {len(out)} distinct problems found in {limit} draws for n={n}; "
            "ask for fewer or raise the difficulty"
        )
    src = MathEnv(**base, split=split, **src_kwargs).source
    size = len(src)
    if n is None or n >= size:
        return [src.get(i) for i in range(size)]
    rng = np.random.default_rng(int(seed))
    idx = sorted(int(i) for i in rng.choice(size, size=int(n), replace=False))
    return [src.get(i) for i in idx]
