"""verl integration: a custom reward function returning every rlsp reward channel, and datasets.

verl (0.9) loads a custom reward function from a file::

    reward.custom_reward_function.path=/path/to/rlsp_env/integrations/verl.py
    reward.custom_reward_function.name=compute_score

:func:`compute_score` returns ``{"score": <weighted scalar>, <channel>: <value>, ..., "acc": 0/1}``.
verl trains on ``score`` and logs the other keys; with ``algorithm.adv_estimator=gdpo`` and
``algorithm.gdpo_reward_keys=[correctness, format, ...]`` (see :func:`gdpo_config`) it normalises
each channel per group before the weighted sum, the decoupled advantage of the RLSP design.

:func:`write_verl_dataset` writes a parquet file in verl's RL dataset format (``data_source``,
chat ``prompt``, ``ability``, ``reward_model.ground_truth``, ``extra_info``) for any registered env.

This module imports only the standard library at import time, so verl's loader can load it by
path; the scoring imports ``rlsp_env`` on first use.

Example:
    >>> from rlsp_env.integrations.verl import compute_score
    >>> out = compute_score("rlsp/MATH500-v0", "so \\\\boxed{4}", "4")  # doctest: +SKIP
    >>> out["score"], out["correctness"], out["acc"]  # doctest: +SKIP
    (..., 1.0, 1.0)
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Mapping
from typing import Any

__all__ = [
    "compute_score",
    "gdpo_config",
    "resolve_verl_spec",
    "resolve_verl_weights",
    "write_verl_dataset",
]


@functools.lru_cache(maxsize=64)
def _env_spec(data_source: str) -> Any:
    """The registered env's reward spec when ``data_source`` is an env id, else ``None``."""
    from rlsp_env.integrations.scoring import env_reward_spec

    try:
        return env_reward_spec(data_source)
    except ValueError:
        return None


def resolve_verl_spec(
    data_source: str | None,
    extra_info: Mapping[str, Any] | None = None,
    weights: str | Mapping[str, float] | None = None,
    spec: Mapping[str, Any] | None = None,
) -> Any:
    """The :class:`~rlsp_env.spec.RewardSpec` :func:`compute_score` scores with.

    The spec: ``spec`` (a :meth:`RewardSpec.to_dict` dict, through verl's
    ``custom_reward_function.reward_kwargs.spec``), else the registered env's own when
    ``data_source`` is an rlsp env id, else the default spec. Its weights, first match wins:
    ``weights`` (``reward_kwargs.weights``), ``extra_info["reward_weights"]`` (a per-row choice),
    the spec's.

    Example:
        >>> s = resolve_verl_spec("rlsp/Arithmetic-v0", weights={"correctness": 1})
        >>> s.weights["correctness"], s.weights["format"], s.answer_policy
        (1.0, 0.0, 'literal')
    """
    from rlsp_env.spec import RewardSpec

    if spec is not None:
        out = RewardSpec.from_dict(dict(spec))
    else:
        out = (_env_spec(data_source) if isinstance(data_source, str) else None) or RewardSpec()
    if weights is None and extra_info is not None and isinstance(extra_info, Mapping):
        weights = extra_info.get("reward_weights")
    return out if weights is None else out.replace(weights=weights)


def resolve_verl_weights(
    data_source: str | None,
    extra_info: Mapping[str, Any] | None = None,
    weights: str | Mapping[str, float] | None = None,
) -> dict[str, float]:
    """The weights of :func:`resolve_verl_spec`'s spec.

    Example:
        >>> w = resolve_verl_weights("anything", weights={"correctness": 1})
        >>> w["correctness"], w["format"]  # every channel is listed; unnamed ones are log-only
        (1.0, 0.0)
    """
    return dict(resolve_verl_spec(data_source, extra_info, weights).weights)


def _gold_text(ground_truth: Any) -> str:
    if isinstance(ground_truth, str):
        return ground_truth
    if isinstance(ground_truth, bool) or ground_truth is None:
        raise ValueError(f"ground_truth must be a string or a number, got {ground_truth!r}")
    if isinstance(ground_truth, int):
        return str(ground_truth)
    if isinstance(ground_truth, float):
        if not math.isfinite(ground_truth):
            raise ValueError(f"ground_truth must be finite, got {ground_truth!r}")
        return repr(ground_truth)
    if hasattr(ground_truth, "tolist"):  # numpy scalars and arrays (verl stores parquet columns)
        return _gold_text(ground_truth.tolist())
    if isinstance(ground_truth, list | tuple) and len(ground_truth) == 1:
        return _gold_text(ground_truth[0])
    raise ValueError(
        f"ground_truth must be one answer (a string or a number), got {type(ground_truth).__name__}"
        f" {ground_truth!r}"
    )


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: Any,
    extra_info: Mapping[str, Any] | None = None,
    *,
    weights: str | Mapping[str, float] | None = None,
    spec: Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> dict[str, float]:
    """verl's custom reward function: the weighted scalar as ``score`` and every channel by name.

    Args:
        data_source: the dataset's ``data_source`` column; an rlsp env id selects that env's
            default weighting.
        solution_str: the decoded response (verl strips the prompt and special tokens).
        ground_truth: the gold answer (``reward_model.ground_truth``): a string or a number.
        extra_info: the row's ``extra_info``; ``extra_info["reward_weights"]`` overrides the weights.
        weights: a preset name or ``{channel: weight}``; set it through
            ``reward.custom_reward_function.reward_kwargs.weights``.
        spec: a whole reward spec as a dict (:meth:`rlsp_env.spec.RewardSpec.to_dict`); by
            default the registered env's (see :func:`resolve_verl_spec`).
        **kwargs: anything else verl passes (``reward_router_address``, ...), ignored.

    Returns:
        ``{"score": float, <channel>: float, ..., "acc": 1.0 | 0.0}``: always the same keys for the
        same weighting, as verl's per-key estimators (``gdpo_reward_keys``) need.

    Raises:
        ValueError: ``ground_truth`` is not one answer, or the weights are invalid.
        TypeError: ``solution_str`` is not a string.

    Example:
        >>> out = compute_score("rlsp/Arithmetic-v0", "12+30=42 \\\\boxed{42}", "42")
        >>> out["acc"], out["score"], out["format"]
        (1.0, 1.0, 0.0)
    """
    if not isinstance(solution_str, str):
        raise TypeError(f"solution_str must be a string, got {type(solution_str).__name__}")
    from rlsp_env.integrations.scoring import score_item

    reward_spec = resolve_verl_spec(data_source, extra_info, weights, spec)
    w = reward_spec.weights
    problem = extra_info.get("problem") if isinstance(extra_info, Mapping) else None
    item = score_item(
        solution_str,
        _gold_text(ground_truth),
        spec=reward_spec,
        problem=problem if isinstance(problem, str) else None,
    )
    out: dict[str, float] = {"score": float(item.reward)}
    for channel in [*w, *(c for c in item.rewards if c not in w)]:
        out[channel] = float(item.rewards.get(channel, 0.0))
    out["acc"] = 1.0 if item.verdict.get("correct") else 0.0
    return out


def gdpo_config(weights: str | Mapping[str, float] | None = "default") -> dict[str, Any]:
    """verl ``algorithm`` overrides for per-channel (GDPO) advantages over our channels.

    Channels with weight 0 are left out (they are still logged by verl from the returned dict).

    Returns:
        ``{"adv_estimator": "gdpo", "gdpo_reward_keys": [...], "gdpo_reward_weights": [...]}``.

    Example:
        >>> gdpo_config({"correctness": 1.0, "format": 0.2, "effort": 0.0})["gdpo_reward_keys"]
        ['correctness', 'format']
    """
    from rlsp_env.integrations.scoring import resolve_weights

    w = resolve_weights(weights)
    keys = [k for k in w if w[k] != 0.0]
    return {
        "adv_estimator": "gdpo",
        "gdpo_reward_keys": keys,
        "gdpo_reward_weights": [w[k] for k in keys],
    }


def write_verl_dataset(
    env_id: str,
    path: str | os.PathLike[str],
    n: int,
    *,
    split: str = "train",
    seed: int = 0,
    system_prompt: str | None = None,
    **env_kwargs: Any,
) -> int:
    """Writes ``n`` problems of a registered env as a parquet file in verl's RL dataset format.

    Each row: ``data_source`` (the env id), ``prompt`` (chat messages), ``ability`` ("math"),
    ``reward_model`` (``{"style": "rule", "ground_truth": gold}``) and ``extra_info``
    (``split``, ``index``, ``problem_id``, ``problem``: the problem text, which the exploration
    channel measures novelty against).

    Args:
        env_id: a registered id (``"rlsp/Arithmetic-v0"``, ``"rlsp/MATH500-v0"``, ...).
        path: the parquet file to write (its folder is created).
        n: number of problems.
        split: ``"train"`` (default) or ``"test"``: disjoint by content for procedural families;
            for a dataset env the 80/20 content-hash partition (``"all"`` for the whole dataset).
        seed: the ``reset`` seed (the problems are indices ``0 .. n-1``).
        system_prompt: an optional system message put before each prompt.
        **env_kwargs: passed to the env (``difficulty=2``, ...).

    Returns:
        The number of rows written.

    Example:
        >>> write_verl_dataset("rlsp/Arithmetic-v0", "/tmp/arith.parquet", 8)  # doctest: +SKIP
        8
    """
    from rlsp_env.integrations.trl import prompt_rows

    rows = prompt_rows(env_id, n, split=split, seed=seed, system_prompt=system_prompt, **env_kwargs)
    import datasets

    records = [
        {
            "data_source": env_id,
            "prompt": row["prompt"],
            "ability": "math",
            "reward_model": {"style": "rule", "ground_truth": row["gold"]},
            "extra_info": {
                "split": split,
                "index": i,
                "problem_id": row["problem_id"],
                "problem": row["problem"],
            },
        }
        for i, row in enumerate(rows)
    ]
    out = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    datasets.Dataset.from_list(records).to_parquet(out)
    return len(records)
