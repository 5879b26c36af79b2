"""Rollouts: one vector-env step is one batch of scored responses (the trainer and ``rlsp eval``).

The agent reaches problems and rewards exactly as any external agent would, through the project's
vector environment (:class:`rlsp_env.vector.MathVectorEnv`, built by ``gymnasium.make_vec``):

1. ``envs = gym.make_vec(env_id, num_envs=P * K, group_size=K, **env_kwargs)`` (:func:`make_envs`):
   ``P`` problems, each served to a group of ``K`` consecutive envs;
2. ``envs.reset(seed=..., options=...)``; the prompt of group ``g`` is ``info["messages"]`` of its
   first env;
3. ``sampler.generate(messages, n=K)``: ``K`` responses per problem (the sampler applies the
   model's chat template; there is no second place that does);
4. ``envs.step(texts)`` with the responses flattened group by group: verification in the
   verifier's process pool, the judge batched, and the group channels (``diversity``) computed
   over each group's responses;
5. the scored step is ``info["final_info"]`` (same-step autoreset): ``rewards[channel]`` and
   ``verdict`` arrays, one entry per env.

Example (a scripted sampler stands in for a language model):
    >>> import gymnasium as gym, rlsp_env
    >>> from rlsp_agents.sampler import Completion
    >>> class Echo:  # answers every prompt with the same two responses
    ...     def generate(self, prompts, *, n, **kw):
    ...         texts = ["so \\\\boxed{1}", "we get a different answer, \\\\boxed{2}"]
    ...         return [[Completion(texts[k % 2], [1, 2], [0], "stop") for k in range(n)]
    ...                 for _ in prompts]
    >>> envs = make_envs("rlsp/Arithmetic-v0", num_prompts=2, group_size=2, verifier_workers=0)
    >>> batch = collect_rollouts(envs, Echo(), seed=0)
    >>> len(batch.rollouts), [r.group for r in batch.rollouts]
    (4, [0, 0, 1, 1])
    >>> batch.channel("diversity").tolist()  # the two responses of a group share no trigram
    [1.0, 1.0, 1.0, 1.0]
    >>> envs.close()
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Rollout", "RolloutBatch", "collect_rollouts", "make_envs"]


@dataclass
class Rollout:
    """One sampled response and everything the update and the evaluation need about it."""

    group: int  # index of its problem within the batch (responses of one group are adjacent)
    prompt_ids: list[int]
    response_ids: list[int]  # the generated ids (+ EOS on a stop when ``eos_id`` was given)
    text: str
    finish_reason: str
    num_tokens: int  # generated tokens (EOS included when generated)
    rewards: dict[str, float]  # every channel the environment reported
    total: float  # the environment's scalar reward
    correct: bool
    extracted: str | None = None  # the verifier's reading of the final answer
    reason: str = ""  # the verdict's reason
    problem: dict[str, Any] = field(default_factory=dict)  # problem_id, gold, level, subject, index


@dataclass
class RolloutBatch:
    """What one :func:`collect_rollouts` call returns."""

    rollouts: list[Rollout]
    messages: list[Any]  # the prompt (message list) of each group
    sample_s: float  # seconds in ``sampler.generate``
    score_s: float  # seconds in ``envs.step``

    def channel(self, name: str) -> Any:
        """``[N]`` float array of one reward channel (``"total"``: the scalar reward)."""
        import numpy as np

        if name == "total":
            return np.array([r.total for r in self.rollouts], dtype=np.float64)
        return np.array([r.rewards[name] for r in self.rollouts], dtype=np.float64)

    @property
    def accuracy(self) -> float:
        """The fraction of responses the verifier marks correct."""
        return sum(r.correct for r in self.rollouts) / max(len(self.rollouts), 1)


def make_envs(env_id: str, *, num_prompts: int, group_size: int = 1, **env_kwargs: Any) -> Any:
    """``gym.make_vec(env_id, num_envs=num_prompts * group_size, group_size=group_size, ...)``.

    Raises:
        ValueError: ``num_prompts`` or ``group_size`` below 1.
        gymnasium.error.Error: an unknown environment id.
    """
    import gymnasium as gym

    import rlsp_env  # noqa: F401  (registers the rlsp/... ids)

    if num_prompts < 1 or group_size < 1:
        raise ValueError(
            f"num_prompts and group_size must be >= 1, got {num_prompts}, {group_size}"
        )
    return gym.make_vec(
        env_id, num_envs=num_prompts * group_size, group_size=group_size, **env_kwargs
    )


def _group_size(envs: Any) -> int:
    k = getattr(envs.unwrapped, "group_size", 1)
    if envs.num_envs % k:
        raise ValueError(f"group_size={k} does not divide num_envs={envs.num_envs}")
    return int(k)


def _at(info: dict[str, Any], key: str, i: int, default: Any = None) -> Any:
    """Entry ``i`` of a batched info key (Gymnasium's ``key`` / ``_key`` arrays)."""
    if key not in info:
        return default
    mask = info.get(f"_{key}")
    if mask is not None and not bool(mask[i]):
        return default
    value = info[key]
    if isinstance(value, dict):
        return {k: _at(value, k, i) for k in value if not k.startswith("_")}
    return value[i].item() if hasattr(value[i], "item") else value[i]


def collect_rollouts(
    envs: Any,
    sampler: Any,
    *,
    seed: int | Sequence[int] | None = None,
    options: dict[str, Any] | None = None,
    num_groups: int | None = None,
    max_new_tokens: int = 256,
    temperature: float = 0.7,
    top_p: float = 1.0,
    eos_id: int | None = None,
    progress: bool = False,
) -> RolloutBatch:
    """Resets ``envs``, samples ``group_size`` responses per problem and scores them in one step.

    Args:
        envs: a vector env from :func:`make_envs` (any vector env with the rlsp step contract:
            ``info["messages"]`` at reset, ``final_info["rewards"]`` / ``["verdict"]`` after a
            step, and a ``group_size`` attribute; 1 when absent).
        sampler: a :class:`rlsp_agents.sampler.Sampler` (``generate(messages, n=...)``).
        seed: ``envs.reset`` seed (an int, or one per env).
        options: ``envs.reset`` options, e.g. ``{"index": [i_0, ...]}`` (one problem per group).
        num_groups: sample only the first ``num_groups`` groups (the rest get an empty response
            and are left out of the result): the last, partial chunk of an evaluation.
        max_new_tokens, temperature, top_p: sampling settings.
        eos_id: when given, a response that stopped on its own ends with this token (appended if
            the sampler left it out; an empty response becomes ``[eos_id]``): what the trainer
            learns to stop with.
        progress: ask the sampler for a progress bar (``generate(..., progress=True)``, which
            the project's samplers accept; the ``Sampler`` protocol does not require it).

    Returns:
        A :class:`RolloutBatch`: one :class:`Rollout` per sampled response, group by group.
    """
    k = _group_size(envs)
    groups = envs.num_envs // k
    active = groups if num_groups is None else int(num_groups)
    if not 1 <= active <= groups:
        raise ValueError(f"num_groups must be in [1, {groups}], got {num_groups!r}")
    _, info = envs.reset(seed=seed, options=options)
    messages = [_at(info, "messages", g * k) for g in range(active)]
    problems = [
        {key: _at(info, key, g * k) for key in ("problem_id", "gold", "level", "subject", "index")}
        for g in range(active)
    ]

    t0 = time.perf_counter()
    outputs = sampler.generate(
        messages,
        n=k,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        top_p=top_p,
        **({"progress": True} if progress else {}),  # not part of the Sampler protocol
    )
    sample_s = time.perf_counter() - t0
    completions = [c for row in outputs for c in row]
    texts = [c.text for c in completions] + [""] * (envs.num_envs - len(completions))

    t0 = time.perf_counter()
    _, reward, _, _, info = envs.step(texts)
    score_s = time.perf_counter() - t0
    final = info.get("final_info", info)  # same-step autoreset: the scored step is final_info

    rollouts = []
    for i, c in enumerate(completions):
        rewards = _at(final, "rewards", i, {})
        verdict = _at(final, "verdict", i, {}) or {}
        resp = list(c.token_ids)
        if eos_id is not None:
            if c.finish_reason == "stop" and (not resp or resp[-1] != eos_id):
                resp.append(eos_id)  # learn to stop
            if not resp:
                resp = [eos_id]
        rollouts.append(
            Rollout(
                group=i // k,
                prompt_ids=list(c.prompt_token_ids),
                response_ids=resp,
                text=c.text,
                finish_reason=c.finish_reason,
                num_tokens=len(c.token_ids),
                rewards={name: float(v) for name, v in rewards.items()},
                total=float(reward[i]),
                correct=bool(verdict.get("correct", False)),
                extracted=verdict.get("extracted"),
                reason=str(verdict.get("reason", "")),
                problem=problems[i // k],
            )
        )
    return RolloutBatch(rollouts, messages, sample_s, score_s)
