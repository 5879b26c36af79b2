"""What the integrations (TRL, verl, the HTTP reward server) share: a registered env's reward spec,
and a JSON-friendly item result.

Nothing here scores by itself: every item goes through :func:`rlsp_env.scoring.score_batch` with
the env's :class:`~rlsp_env.spec.RewardSpec`, so the integrations give the channels ``env.step``
gives; batches are verified in a :class:`rlsp_verifiers.VerifierPool` (a hard per-item timeout:
a worker that overruns is killed and replaced). The HTTP reward server schedules items one at a
time across requests (:class:`rlsp_env.server.ScoringBackend`) and scores each request with
:func:`~rlsp_env.scoring.score_batch` too.

Example:
    >>> spec = env_reward_spec("rlsp/Arithmetic-v0", reward_weights="correctness")
    >>> spec.answer_policy, spec.weights["correctness"]
    ('literal', 1.0)
    >>> item = score_item("2 + 3 = 5, so \\\\boxed{5}", "5", spec=spec, inline=True)
    >>> item.rewards["correctness"], item.verdict["correct"]
    (1.0, True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rlsp_env.spec import RewardSpec

__all__ = [
    "ItemScore",
    "Weights",
    "env_default_weights",
    "env_reward_spec",
    "item_from_result",
    "resolve_weights",
    "score_item",
    "targets_of",
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


def targets_of(golds: Sequence[str], problems: Sequence[str] | None = None) -> list[Any]:
    """What :func:`rlsp_env.scoring.score_batch` scores against: the gold answers, or, where a
    problem text is known, a :class:`~rlsp_env.problem.Problem` holding both (the exploration
    channel measures novelty against the problem text, the effort judge reads it).

    Example:
        >>> [type(t).__name__ for t in targets_of(["4", "5"], ["2+2?", ""])]
        ['Problem', 'str']
    """
    from rlsp_env.problem import Problem

    if problems is None:
        return list(golds)
    if len(problems) != len(golds):
        raise ValueError(f"got {len(problems)} problem texts for {len(golds)} gold answers")
    return [
        Problem(id=f"item/{i}", problem=p, answer=g) if p else g
        for i, (g, p) in enumerate(zip(golds, problems))
    ]


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
    problem: str | None = None,
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
        problem: the problem text, when known (the exploration channel measures novelty against
            it, as ``env.step`` does).

    Raises:
        TypeError: ``response`` or ``gold`` is not a string.
    """
    from rlsp_env.scoring import score_batch

    _check_pair(response, gold)
    target = targets_of([gold], None if problem is None else [problem])
    res = score_batch([response], target, None, spec, inline=inline, others=[list(group)])
    return item_from_result(res[0])
