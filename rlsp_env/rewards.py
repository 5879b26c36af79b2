"""Reward channels: a registry of small, bounded functions over one reading of a response, and
their declared weighted sum.

Every ``step`` of an rlsp environment reports each channel by name in ``info["rewards"]`` and a
scalar ``reward = sum(weights[c] * rewards[c])``. Weight 0 means log-only. An agent can take the
scalar, or take the channels and weigh them itself (RLSP keeps correctness and exploration apart).

A channel is a function of a :class:`ChannelInput` (the response read once by
:func:`rlsp_env.text.read_response`, the problem, the verifier's verdict, the group's other
responses, the judge's grade and the :class:`~rlsp_env.spec.RewardSpec`), registered with
:func:`channel`. :func:`rlsp_env.scoring.score_batch` builds the inputs for a batch and calls every
registered channel; nothing else computes channels.

=============== =============== ==============================================================
channel         range           meaning
=============== =============== ==============================================================
correctness     {0, 1}          the verifier's verdict (:func:`rlsp_verifiers.verify`)
format          {-0.5, 0}       -0.5 unless the verifier's extraction finds a final answer (a
                                complete, non-empty ``\\boxed{}`` after any ``</think>``; RLSP)
exploration     [-cap, 0]       ``-min(cap, L / ell)``: RLSP's length term, ``ell`` the
                                *effective* reasoning length (:mod:`rlsp_env.text`: repeated
                                lines / phrases and filler do not count), saturating at 0
effort          [0, 1]          an LLM judge's grade of thinking effort (never correctness);
                                0.0 without a judge or on malformed judge output
diversity       [0, 1]          mean trigram Jaccard distance to the other responses of the
                                same group (k envs on one problem); 0.0 without a group
backtracking    [0, 1000]       count of "wait", "let me re-check", ... (log-only by default)
verification    [0, 1000]       count of "let me verify", "substituting back", ...
alternatives    [0, 1000]       count of "alternatively", "another approach", ...
=============== =============== ==============================================================

Presets (:data:`PRESETS`):

- ``"rlsp"``: the paper's 32B formula ``0.8 * (r_c - L / ell) + 0.2 * g`` with ``r_c = -0.5``
  when there is no box, as the declared sum ``0.8 correctness + 0.8 format + 0.8 exploration +
  0.2 effort``;
- ``"rlsp-length"``: the paper's main runs, ``r_c - L / ell`` (no judge);
- ``"correctness"``: 1 for a verified answer, else 0;
- ``"default"``: ``r_c`` alone: correctness + format (1 / 0 / -0.5).

Example:
    >>> res = score("so $2+2 = \\\\boxed{4}$", "4", weights="correctness")
    >>> res.reward, res.rewards["correctness"], res.verdict.reason
    (1.0, 1.0, 'equal')
    >>> score("I think it is 4", "4").rewards["format"]
    -0.5
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from rlsp_env.problem import Problem
from rlsp_env.spec import DEFAULT_LENGTH_SCALE
from rlsp_env.text import (
    MAX_BEHAVIOUR_COUNT,
    Reading,
    behaviour_counts,
    shingles,
)

__all__ = [
    "CHANNELS",
    "DEFAULT_LENGTH_SCALE",
    "FORMAT_PENALTY",
    "PRESETS",
    "ChannelInfo",
    "ChannelInput",
    "ScoreResult",
    "channel",
    "combine",
    "diversity",
    "exploration",
    "format_reward",
    "resolve_weights",
    "score",
]

#: the ``format`` channel's value for a response without a final answer (RLSP's -0.5)
FORMAT_PENALTY = -0.5


@dataclass
class ChannelInput:
    """What a channel function sees: one response, read once, in its batch.

    Attributes:
        reading: the response read by :func:`rlsp_env.text.read_response`.
        problem: the problem (``problem.answer`` is the gold).
        verdict: the verifier's :class:`rlsp_verifiers.Verdict`.
        spec: the :class:`~rlsp_env.spec.RewardSpec` in force.
        tokenizer: the spec's token counter, resolved (``None``: characters / 4).
        others: the other responses of this response's group (empty without a group).
        group_shingles: the trigram sets of those other responses (computed once per batch).
        judge_result: the effort judge's :class:`rlsp_env.judge.JudgeResult`, or ``None``.
    """

    reading: Reading
    problem: Problem
    verdict: Any
    spec: Any
    tokenizer: Any = None
    others: tuple[str, ...] = ()
    group_shingles: tuple[frozenset, ...] = ()
    judge_result: Any = None

    @property
    def response(self) -> str:
        """The response text."""
        return self.reading.response

    @functools.cached_property
    def behaviours(self) -> dict[str, float]:
        """:func:`rlsp_env.text.behaviour_counts` of the response (one pass for three channels)."""
        return behaviour_counts(self.reading.response)

    @functools.cached_property
    def shingles(self) -> frozenset:
        """The response's word trigrams (for ``diversity``)."""
        return shingles(self.reading.response)


@dataclass(frozen=True)
class ChannelInfo:
    """A channel: its declared range, meaning and function.

    Attributes:
        group: the channel needs the other responses of a group (``diversity``).
        fn: ``ChannelInput -> float``, within ``[low, high]``.
    """

    name: str
    low: float
    high: float
    description: str
    group: bool = False
    fn: Callable[[ChannelInput], float] | None = field(default=None, compare=False, repr=False)


_REGISTRY: dict[str, ChannelInfo] = {}
#: every registered channel by name, in registration order (read-only view)
CHANNELS: Mapping[str, ChannelInfo] = MappingProxyType(_REGISTRY)


def channel(
    name: str, low: float, high: float, description: str, *, group: bool = False
) -> Callable[[Callable[[ChannelInput], float]], Callable[[ChannelInput], float]]:
    """Registers a channel function (a decorator); the name must be new.

    Example:
        >>> sorted(CHANNELS)[:3]
        ['alternatives', 'backtracking', 'correctness']
    """

    def deco(fn: Callable[[ChannelInput], float]) -> Callable[[ChannelInput], float]:
        if name in _REGISTRY:
            raise ValueError(f"channel {name!r} is already registered")
        _REGISTRY[name] = ChannelInfo(name, float(low), float(high), description, group, fn)
        return fn

    return deco


def _check_text(response: Any, name: str = "response") -> str:
    if not isinstance(response, str):
        raise TypeError(f"{name} must be a str, got {type(response).__name__}")
    return response


# ----------------------------------------------------------------------------- channels


@channel("correctness", 0.0, 1.0, "1 if the verifier accepts the final answer")
def _correctness(x: ChannelInput) -> float:
    return 1.0 if x.verdict.correct else 0.0


@channel("format", FORMAT_PENALTY, 0.0, "-0.5 without a final answer the verifier reads")
def _format(x: ChannelInput) -> float:
    return 0.0 if x.reading.has_answer else FORMAT_PENALTY


def format_reward(response: str) -> float:
    """The ``format`` channel of one response: 0.0 with a final answer the verifier reads, else -0.5.

    Example:
        >>> format_reward("x = \\\\boxed{3}"), format_reward("x = 3"), format_reward("\\\\boxed{}")
        (0.0, -0.5, -0.5)
        >>> format_reward("<think>so \\\\boxed{3}</think> not sure")  # the verdict is no_answer
        -0.5
    """
    from rlsp_env.text import read_response

    return 0.0 if read_response(_check_text(response)).has_answer else FORMAT_PENALTY


@channel("exploration", -1.0, 0.0, "informative reasoning length on a saturating curve over L")
def _exploration(x: ChannelInput) -> float:
    s = x.spec
    return exploration(
        x.reading.response,
        x.problem,
        length_scale=s.length_scale,
        cap=s.exploration_cap,
        tokenizer=x.tokenizer,
        reasoning=x.reading.reasoning,  # the one reading; not cut again
    )


@channel("effort", 0.0, 1.0, "LLM judge's grade of thinking effort")
def _effort(x: ChannelInput) -> float:
    return 0.0 if x.judge_result is None else _clip01(x.judge_result.score)


@channel("diversity", 0.0, 1.0, "distance to the group's other responses", group=True)
def _diversity(x: ChannelInput) -> float:
    return _mean_distance(x.shingles, x.group_shingles)


def _behaviour_channel(name: str, description: str) -> None:
    channel(name, 0.0, float(MAX_BEHAVIOUR_COUNT), description)(lambda x: x.behaviours[name])


_behaviour_channel("backtracking", "backtracking phrases")
_behaviour_channel("verification", "verification phrases")
_behaviour_channel("alternatives", "alternative approaches")


def _clip01(v: float) -> float:
    v = float(v)
    return 0.0 if not math.isfinite(v) else min(1.0, max(0.0, v))


def _mean_distance(mine: frozenset, others: Sequence[frozenset]) -> float:
    dists = []
    for theirs in others:
        union = mine | theirs
        dists.append(0.0 if not union else 1.0 - len(mine & theirs) / len(union))
    return float(sum(dists) / len(dists)) if dists else 0.0


def diversity(response: str, others: Sequence[str] = ()) -> float:
    """Mean trigram Jaccard distance between ``response`` and each of ``others`` (0.0 if none).

    Example:
        >>> diversity("a b c d", ["a b c d"]), diversity("a b c d", ["w x y z"])
        (0.0, 1.0)
    """
    return _mean_distance(
        shingles(_check_text(response)),
        [shingles(_check_text(o, "group response")) for o in others],
    )


# ----------------------------------------------------------------------------- weights


def _preset(**w: float) -> Mapping[str, float]:
    full = {c: 0.0 for c in CHANNELS}
    full.update(w)
    return MappingProxyType(full)


PRESETS: Mapping[str, Mapping[str, float]] = MappingProxyType(
    {
        "rlsp": _preset(correctness=0.8, format=0.8, exploration=0.8, effort=0.2),
        "rlsp-length": _preset(correctness=1.0, format=1.0, exploration=1.0),
        "correctness": _preset(correctness=1.0),
        "default": _preset(correctness=1.0, format=1.0),
    }
)


def resolve_weights(weights: str | Mapping[str, float] | None) -> dict[str, float]:
    """Turns a preset name or a partial ``{channel: weight}`` mapping into a full weight dict.

    Raises:
        ValueError: unknown preset or channel, or a non-finite weight.
        TypeError: weights of the wrong type.

    Example:
        >>> resolve_weights({"correctness": 1.0})["format"]
        0.0
        >>> resolve_weights("rlsp")["effort"]
        0.2
    """
    if weights is None:
        weights = "default"
    if isinstance(weights, str):
        if weights not in PRESETS:
            raise ValueError(f"unknown reward preset {weights!r}; presets: {sorted(PRESETS)}")
        return dict(PRESETS[weights])
    if not isinstance(weights, Mapping):
        raise TypeError(
            f"reward_weights must be a preset name or a mapping, got {type(weights).__name__}"
        )
    unknown = set(weights) - set(CHANNELS)
    if unknown:
        raise ValueError(f"unknown reward channels {sorted(unknown)}; channels: {list(CHANNELS)}")
    out = {c: 0.0 for c in CHANNELS}
    for k, v in weights.items():
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise TypeError(f"weight of {k!r} must be a number, got {v!r}")
        if not math.isfinite(float(v)):
            raise ValueError(f"weight of {k!r} must be finite, got {v!r}")
        out[k] = float(v)
    return out


def combine(rewards: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """The declared scalar: ``sum(weights[c] * rewards[c])`` over channels with non-zero weight.

    Example:
        >>> combine({"correctness": 1.0, "format": 0.0}, {"correctness": 0.8, "format": 0.8})
        0.8
    """
    return float(sum(w * rewards[c] for c, w in weights.items() if w != 0.0))


# ----------------------------------------------------------------------------- exploration
# (RLSP's length term; its internals are the RLSP method's, see rlsp_env/exploration.py when present)


def exploration(
    response: str,
    problem: Problem | str | None = None,
    *,
    length_scale: float = DEFAULT_LENGTH_SCALE,
    cap: float = 1.0,
    tokenizer: object | None = None,
    reasoning: str | None = None,
) -> float:
    """The exploration channel: informative reasoning length on a saturating curve over ``L``.

    Delegates to :func:`rlsp_env.exploration.exploration_reward` (``curve="info"``): the reasoning
    (text before the final box) is normalised (NFKC, invisible characters, look-alike letters),
    de-duplicated and measured in *information* (compressed size beyond the problem text, bounded by
    its new vocabulary), then mapped to ``-cap * (1 - log(1 + u) / log(1 + L))`` in ``[-cap, 0]``,
    tapered to ``-cap`` for reasoning longer than ``L`` up to ``2 L``. ``length_scale = 0``
    disables it (always 0, the paper's ablation). Design: ``docs/exploration.md``.

    Example:
        >>> exploration("\\\\boxed{1}", length_scale=100.0)
        -1.0
        >>> r = "We add 2 and 3 to get 5. Then 5 times 4 is 20. "
        >>> exploration(r * 3 + "\\\\boxed{20}", length_scale=100.0) == exploration(
        ...     r + "\\\\boxed{20}", length_scale=100.0)
        True
        >>> exploration(r + "\\\\boxed{20}", length_scale=100.0) > -1.0
        True
    """
    from rlsp_env.exploration import exploration_reward

    return exploration_reward(
        _check_text(response),
        problem,
        length_scale=length_scale,
        cap=cap,
        tokenizer=tokenizer,
        reasoning=reasoning,
    )


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ScoreResult:
    """One scored response (what :func:`rlsp_env.scoring.score_batch` returns per item).

    Attributes:
        reward: the declared weighted sum of the channels.
        rewards: every channel by name.
        verdict: the verifier's :class:`rlsp_verifiers.Verdict`.
        weights: the full weight dict used.
        info: extras (``ell``, judge status).
    """

    reward: float
    rewards: dict[str, float]
    verdict: Any
    weights: dict[str, float]
    info: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "reward": self.reward,
            "rewards": dict(self.rewards),
            "verdict": self.verdict.to_dict(),
            "weights": dict(self.weights),
            "info": dict(self.info),
        }


def score(
    response: str,
    problem_or_gold: Problem | str,
    *,
    weights: str | Mapping[str, float] | None = "default",
    spec: Any = None,
    judge: Any = None,
    group: Sequence[str] = (),
    inline: bool = True,
    **spec_fields: Any,
) -> ScoreResult:
    """Scores one response on every channel: :func:`rlsp_env.scoring.score_batch` for one item.

    Args:
        response: the model's full response text (any ``str``; empty, huge or binary is fine).
        problem_or_gold: a :class:`Problem` or the gold answer.
        weights: a preset name (:data:`PRESETS`) or a partial ``{channel: weight}`` mapping
            (ignored when ``spec`` is given).
        spec: a :class:`~rlsp_env.spec.RewardSpec` (else one is built from ``weights`` and
            ``spec_fields``: ``length_scale``, ``exploration_cap``, ``tokenizer``,
            ``verifier_mode``, ``answer_policy``, ``timeout_s``).
        judge: an effort judge (:mod:`rlsp_env.judge`); called only if ``effort`` has weight.
        group: the other responses to the same problem (for ``diversity``).
        inline: verify in this process (cooperative timeout; the default here, for quick use);
            ``False``: in the process-wide verifier pool (a hard time bound).

    Raises:
        TypeError: a non-``str`` response or a bad problem type.
        ValueError: bad weights or spec fields.

    Example:
        >>> r = score("Add: 2+2=4. \\\\boxed{4}", "4", weights="rlsp-length", length_scale=2)
        >>> r.rewards["correctness"], r.rewards["format"], round(r.rewards["exploration"], 3)
        (1.0, 0.0, -0.375)
        >>> r.info["ell"]  # "add 2+2=4" is 9 characters: 2.25 rough tokens
        2.25
    """
    from rlsp_env import scoring
    from rlsp_env.spec import RewardSpec

    if spec is None:
        spec = RewardSpec(weights=weights, **spec_fields)
    elif spec_fields:
        raise TypeError(f"give either spec= or spec fields, not both: {sorted(spec_fields)}")
    group = [_check_text(g, "group response") for g in group]
    return scoring.score_batch(
        [response], [problem_or_gold], None, spec, judge=judge, inline=inline, others=[group]
    )[0]
