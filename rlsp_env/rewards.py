"""Reward channels: named, bounded, pure functions of (response, problem), and their declared sum.

Every ``step`` of an rlsp environment reports each channel by name in ``info["rewards"]`` and a
scalar ``reward = sum(weights[c] * rewards[c])``. Weight 0 means log-only. An agent can take the
scalar, or take the channels and weigh them itself (RLSP keeps correctness and exploration apart).

=============== =============== ==============================================================
channel         range           meaning
=============== =============== ==============================================================
correctness     {0, 1}          the verifier's verdict (:func:`rlsp_verifiers.verify`)
format          {-0.5, 0}       -0.5 when there is no complete, non-empty ``\\boxed{}`` (RLSP)
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

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from rlsp_env.problem import Problem
from rlsp_env.text import (
    MAX_BEHAVIOUR_COUNT,
    behaviour_counts,
    effective_length,
    last_boxed,
    reasoning_text,
    shingles,
)

__all__ = [
    "CHANNELS",
    "DEFAULT_LENGTH_SCALE",
    "FORMAT_PENALTY",
    "PRESETS",
    "ChannelInfo",
    "ScoreResult",
    "alternatives",
    "backtracking",
    "combine",
    "correctness",
    "diversity",
    "effort",
    "exploration",
    "format_reward",
    "resolve_weights",
    "score",
    "score_many",
    "verification",
]

#: RLSP's ``L`` (their main runs): the reasoning length, in tokens, at which exploration is -1
DEFAULT_LENGTH_SCALE = 1000.0
#: the ``format`` channel's value for a response without a complete box (RLSP's -0.5)
FORMAT_PENALTY = -0.5


@dataclass(frozen=True)
class ChannelInfo:
    """A channel's declared range and meaning."""

    name: str
    low: float
    high: float
    description: str
    group: bool = False


CHANNELS: Mapping[str, ChannelInfo] = MappingProxyType(
    {
        c.name: c
        for c in [
            ChannelInfo("correctness", 0.0, 1.0, "1 if the verifier accepts the final answer"),
            ChannelInfo("format", FORMAT_PENALTY, 0.0, "-0.5 without a complete non-empty box"),
            ChannelInfo("exploration", -1.0, 0.0, "-min(cap, L/ell), ell = effective length"),
            ChannelInfo("effort", 0.0, 1.0, "LLM judge's grade of thinking effort"),
            ChannelInfo("diversity", 0.0, 1.0, "distance to the group's other responses", True),
            ChannelInfo("backtracking", 0.0, float(MAX_BEHAVIOUR_COUNT), "backtracking phrases"),
            ChannelInfo("verification", 0.0, float(MAX_BEHAVIOUR_COUNT), "verification phrases"),
            ChannelInfo("alternatives", 0.0, float(MAX_BEHAVIOUR_COUNT), "alternative approaches"),
        ]
    }
)


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


def _check_text(response: Any, name: str = "response") -> str:
    if not isinstance(response, str):
        raise TypeError(f"{name} must be a str, got {type(response).__name__}")
    return response


def _gold_of(problem_or_gold: Problem | str) -> str:
    if isinstance(problem_or_gold, Problem):
        return problem_or_gold.answer
    if isinstance(problem_or_gold, str):
        return problem_or_gold
    raise TypeError(
        f"problem must be a Problem or a gold answer str, got {type(problem_or_gold).__name__}"
    )


def _problem_text(problem_or_gold: Problem | str) -> str:
    return problem_or_gold.problem if isinstance(problem_or_gold, Problem) else ""


# ----------------------------------------------------------------------------- channels


def correctness(
    response: str,
    problem: Problem | str,
    *,
    verdict: Any = None,
    mode: str = "strict",
    timeout_s: float | None = 5.0,
) -> float:
    """1.0 if the verifier accepts the response's final answer for the problem's gold, else 0.0.

    Args:
        response: the model's full response.
        problem: a :class:`Problem` or the gold answer string.
        verdict: a precomputed :class:`rlsp_verifiers.Verdict` (skips verification).
        mode: the verifier's mode (``"strict"``: a box is required).
        timeout_s: the verifier's time budget (a timeout is a verdict, scored 0).

    Example:
        >>> correctness("\\\\boxed{\\\\frac{1}{2}}", "0.5")
        1.0
    """
    if verdict is None:
        verdict = _verify(_check_text(response), _gold_of(problem), mode=mode, timeout_s=timeout_s)
    return 1.0 if verdict.correct else 0.0


def format_reward(response: str, problem: Problem | str | None = None) -> float:
    """0.0 when the response ends its reasoning with a complete, non-empty ``\\boxed{}``, else -0.5.

    Example:
        >>> format_reward("x = \\\\boxed{3}"), format_reward("x = 3"), format_reward("\\\\boxed{}")
        (0.0, -0.5, -0.5)
    """
    boxed = last_boxed(_check_text(response))
    return 0.0 if boxed else FORMAT_PENALTY


def exploration(
    response: str,
    problem: Problem | str | None = None,
    *,
    length_scale: float = DEFAULT_LENGTH_SCALE,
    cap: float = 1.0,
    tokenizer: object | None = None,
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
        _check_text(response), problem, length_scale=length_scale, cap=cap, tokenizer=tokenizer
    )


def _exploration_of(ell: float, length_scale: float, cap: float) -> float:
    from rlsp_env.exploration import curve_value

    return curve_value(ell, length_scale, cap)


def effort(response: str, problem: Problem | str, *, judge: Any = None) -> float:
    """The judge's grade of thinking effort in [0, 1] (0.0 without a judge; see :mod:`rlsp_env.judge`).

    Example:
        >>> effort("2+2=4 \\\\boxed{4}", "4")
        0.0
    """
    _check_text(response)
    if judge is None:
        return 0.0
    res = judge.grade_many([(_problem_text(problem), response)])[0]
    return _clip01(res.score)


def _clip01(v: float) -> float:
    v = float(v)
    return 0.0 if not math.isfinite(v) else min(1.0, max(0.0, v))


def diversity(response: str, others: Sequence[str] = ()) -> float:
    """Mean trigram Jaccard distance between ``response`` and each of ``others`` (0.0 if none).

    Example:
        >>> diversity("a b c d", ["a b c d"]), diversity("a b c d", ["w x y z"])
        (0.0, 1.0)
    """
    mine = shingles(_check_text(response))
    dists = []
    for o in others:
        theirs = shingles(_check_text(o, "group response"))
        union = mine | theirs
        dists.append(0.0 if not union else 1.0 - len(mine & theirs) / len(union))
    return float(sum(dists) / len(dists)) if dists else 0.0


def backtracking(response: str, problem: Problem | str | None = None) -> float:
    """Count of backtracking phrases ("wait", "let me re-check", ...), capped at 1000."""
    return behaviour_counts(_check_text(response))["backtracking"]


def verification(response: str, problem: Problem | str | None = None) -> float:
    """Count of verification phrases ("let me verify", "substituting back", ...), capped at 1000."""
    return behaviour_counts(_check_text(response))["verification"]


def alternatives(response: str, problem: Problem | str | None = None) -> float:
    """Count of alternative-approach phrases ("alternatively", ...), capped at 1000."""
    return behaviour_counts(_check_text(response))["alternatives"]


# ----------------------------------------------------------------------------- scoring


def _verify(response: str, gold: str, *, mode: str, timeout_s: float | None) -> Any:
    from rlsp_verifiers import verify

    return verify(response, gold, mode=mode, timeout_s=timeout_s)


@dataclass(frozen=True)
class ScoreResult:
    """What :func:`score` returns.

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
    judge: Any = None,
    judge_result: Any = None,
    tokenizer: object | None = None,
    length_scale: float = DEFAULT_LENGTH_SCALE,
    exploration_cap: float = 1.0,
    group: Sequence[str] = (),
    mode: str = "strict",
    timeout_s: float | None = 5.0,
    verdict: Any = None,
) -> ScoreResult:
    """Scores one response on every channel and combines them with ``weights``.

    Args:
        response: the model's full response text (any ``str``; empty, huge or binary is fine).
        problem_or_gold: a :class:`Problem` or the gold answer.
        weights: a preset name (:data:`PRESETS`) or a partial ``{channel: weight}`` mapping.
        judge: an effort judge (:mod:`rlsp_env.judge`); called only if ``effort`` has weight.
        judge_result: a precomputed :class:`rlsp_env.judge.JudgeResult` (batched callers).
        tokenizer: counts ``ell`` in tokens (else characters / 4).
        length_scale: RLSP's ``L``.
        exploration_cap: lower bound magnitude of the exploration channel.
        group: the other responses to the same problem (for ``diversity``).
        mode: the verifier's mode.
        timeout_s: the verifier's per-item time budget.
        verdict: a precomputed verdict (batched callers verify in a pool first).

    Raises:
        TypeError: a non-``str`` response or a bad problem type.
        ValueError: bad weights or length parameters.

    Example:
        >>> r = score("Add: 2+2=4. \\\\boxed{4}", "4", weights="rlsp-length", length_scale=2)
        >>> r.rewards["correctness"], r.rewards["format"], round(r.rewards["exploration"], 3)
        (1.0, 0.0, -0.375)
        >>> r.info["ell"]  # "add 2+2=4" is 9 characters: 2.25 rough tokens
        2.25
    """
    _check_text(response)
    gold = _gold_of(problem_or_gold)
    w = resolve_weights(weights)
    if verdict is None:
        verdict = _verify(response, gold, mode=mode, timeout_s=timeout_s)
    exploration("", length_scale=length_scale, cap=exploration_cap)  # validates the parameters
    ell = effective_length(reasoning_text(response), tokenizer)
    rewards = {
        "correctness": correctness(response, gold, verdict=verdict),
        "format": format_reward(response),
        "exploration": exploration(
            response,
            _problem_text(problem_or_gold),
            length_scale=length_scale,
            cap=exploration_cap,
            tokenizer=tokenizer,
        ),
        "effort": 0.0,
        "diversity": diversity(response, group),
        **behaviour_counts(response),
    }
    info: dict[str, Any] = {"ell": ell, "effort_judged": False}
    if judge_result is None and judge is not None and w["effort"] != 0.0:
        judge_result = judge.grade_many([(_problem_text(problem_or_gold), response)])[0]
    if judge_result is not None:
        rewards["effort"] = _clip01(judge_result.score)
        info["effort_judged"] = bool(judge_result.ok)
        info["effort_reason"] = judge_result.reason
    return ScoreResult(combine(rewards, w), rewards, verdict, w, info)


def score_many(
    responses: Sequence[str],
    problems: Sequence[Problem | str],
    *,
    weights: str | Mapping[str, float] | None = "default",
    group_ids: Sequence[Any] | None = None,
    pool: Any = None,
    workers: int | None = None,
    judge: Any = None,
    timeout_s: float = 5.0,
    mode: str = "strict",
    **kwargs: Any,
) -> list[ScoreResult]:
    """Scores a batch: verification in parallel (a :class:`rlsp_verifiers.VerifierPool` or
    ``verify_many``, per-item timeouts), judge calls batched, ``diversity`` within ``group_ids``.

    Args:
        responses: one response per problem.
        problems: :class:`Problem` objects or gold strings, same length.
        weights: as in :func:`score`.
        group_ids: responses sharing a group id are each other's ``diversity`` group.
        pool: a running ``VerifierPool`` to reuse (else ``verify_many(workers=...)``).
        workers: worker processes when no pool is given (``0``: verify in this process).
        judge: an effort judge, called once for the whole batch if ``effort`` has weight.
        timeout_s, mode: verifier settings.
        **kwargs: passed to :func:`score` (``tokenizer``, ``length_scale``, ...).

    Example:
        >>> rs = score_many(["\\\\boxed{4}", "\\\\boxed{5}"], ["4", "4"], workers=0)
        >>> [r.rewards["correctness"] for r in rs]
        [1.0, 0.0]
    """
    if len(responses) != len(problems):
        raise ValueError(f"{len(responses)} responses for {len(problems)} problems")
    for r in responses:
        _check_text(r)
    golds = [_gold_of(p) for p in problems]
    w = resolve_weights(weights)
    pairs = list(zip(responses, golds))
    if pool is not None:
        verdicts = pool.map(pairs)
    elif workers == 0 or len(pairs) <= 1:
        verdicts = [_verify(r, g, mode=mode, timeout_s=timeout_s) for r, g in pairs]
    else:
        from rlsp_verifiers import verify_many

        verdicts = verify_many(pairs, workers=workers, timeout_s=timeout_s, mode=mode)
    judged: list[Any] = [None] * len(responses)
    if judge is not None and w["effort"] != 0.0:
        judged = judge.grade_many([(_problem_text(p), r) for p, r in zip(problems, responses)])
    groups: dict[Any, list[int]] = {}
    if group_ids is not None:
        if len(group_ids) != len(responses):
            raise ValueError("group_ids must have one entry per response")
        for i, g in enumerate(group_ids):
            groups.setdefault(g, []).append(i)
    out = []
    for i, (resp, prob) in enumerate(zip(responses, problems)):
        others = (
            [responses[j] for j in groups[group_ids[i]] if j != i] if group_ids is not None else []
        )
        out.append(
            score(
                resp,
                prob,
                weights=w,
                verdict=verdicts[i],
                judge_result=judged[i],
                group=others,
                mode=mode,
                timeout_s=timeout_s,
                **kwargs,
            )
        )
    return out
